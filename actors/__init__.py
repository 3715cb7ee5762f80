"""The actor runtime and the actors of the simulation."""

from .runtime import (
    Actor as Actor,
)
from .runtime import (
    ActorCrashed as ActorCrashed,
)
from .runtime import (
    ActorRef as ActorRef,
)
from .runtime import (
    ActorStopped as ActorStopped,
)
from .runtime import (
    AskTimeout as AskTimeout,
)
from .runtime import (
    Mailbox as Mailbox,
)
from .stage import (
    Registry as Registry,
)
from .stage import (
    Stage as Stage,
)
from .stage import (
    UnknownActor as UnknownActor,
)
from .stage import (
    open_stage as open_stage,
)
