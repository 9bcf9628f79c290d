"""One native thread for the scorer's small numeric kernels on a shared 2-core machine."""

from __future__ import annotations

from typing import Any

from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None


def one_thread(user_api: str) -> Any:
    """Context manager: limit the `user_api` ("openmp" or "blas") pools to one thread.

    The controller is built once: inspecting the loaded libraries costs milliseconds, too
    much for a one-lead prediction.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api=user_api)
