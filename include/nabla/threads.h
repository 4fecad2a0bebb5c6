// The number of CPU threads nabla's loops and OpenBLAS use. Both are set together so that the
// two never oversubscribe the cores.
#pragma once

namespace nabla {

void set_num_threads(int threads);
int get_num_threads();

}  // namespace nabla
