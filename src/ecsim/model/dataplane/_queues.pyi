import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

def arrive_clear(
    ip: I64, t: F64, second: I64, backlog: F64, arrivals: I64, capacity: F64
) -> bool: ...
