"""CPU thread pools: numpy's BLAS must not fight torch's for the same cores."""

from __future__ import annotations


def limit_blas_threads(threads: int) -> bool:
    """Cap numpy's OpenBLAS pool (torch keeps its own). Its idle threads spin for a while after each
    call and slow torch's next call on the same cores: on 2 cores a 100k-product filtered search
    (exact scoring in numpy, then the next query's MiniLM in torch) went from p95 118 ms to 41 ms
    with one BLAS thread. Returns whether an OpenBLAS pool was found."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return False
    pools = ThreadpoolController().select(internal_api="openblas")
    if not pools.lib_controllers:
        return False
    pools.limit(limits=threads)
    return True
