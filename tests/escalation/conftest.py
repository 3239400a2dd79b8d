"""The incidents fixtures (a team with two rotations, a fake notifier) serve the engine tests too."""
from tests.incidents.conftest import notifier, world  # noqa: F401
