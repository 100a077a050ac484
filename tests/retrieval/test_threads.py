"""numpy's BLAS pool is capped so it does not spin against torch's (see shopassist/threads.py)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_limits

from shopassist.threads import limit_blas_threads


def _openblas_threads() -> list[int]:
    return [c.num_threads for c in ThreadpoolController().select(internal_api="openblas").lib_controllers]


def test_limit_blas_threads_caps_numpys_openblas_pool() -> None:
    np.ones((4, 4)) @ np.ones(4)  # numpy's OpenBLAS is loaded
    with threadpool_limits(limits=None):  # restores the pool afterwards
        assert limit_blas_threads(1) is True
        assert _openblas_threads() and set(_openblas_threads()) == {1}
