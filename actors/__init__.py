"""The actor runtime and the actors of the simulation."""

from .runtime import (
    Actor as Actor,
    ActorCrashed as ActorCrashed,
    ActorRef as ActorRef,
    ActorStopped as ActorStopped,
    AskTimeout as AskTimeout,
    Mailbox as Mailbox,
)
from .stage import Registry as Registry, Stage as Stage, UnknownActor as UnknownActor, open_stage as open_stage
