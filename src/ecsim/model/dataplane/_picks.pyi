import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

def route_kinds(u: F64, cdf: F64, base: int, route: I64, counts: I64) -> None: ...
def pick_plain(
    pool: I64, algorithm: I64, size: I64, offset: I64, rr: I64, u: F64, flat: I64
) -> None: ...
