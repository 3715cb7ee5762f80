"""The generic actor engine: nothing in this package knows about sessions or agents."""

from actors.runtime.actor import Actor as Actor
from actors.runtime.actor import ActorCrashed as ActorCrashed
from actors.runtime.actor import ActorRef as ActorRef
from actors.runtime.actor import ActorStopped as ActorStopped
from actors.runtime.actor import AskTimeout as AskTimeout
from actors.runtime.actor import Mailbox as Mailbox
from actors.runtime.actor import Request as Request
from actors.runtime.actor import Unanswered as Unanswered
from actors.runtime.stage import Registry as Registry
from actors.runtime.stage import Stage as Stage
from actors.runtime.stage import UnknownActor as UnknownActor
from actors.runtime.stage import open_stage as open_stage
