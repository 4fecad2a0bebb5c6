// The number of CPU threads nabla's loops and GEMMs use. nabla splits large GEMMs across its own
// threads and keeps OpenBLAS single-threaded, so that two thread pools never oversubscribe the
// cores.
#pragma once

namespace nabla {

void set_num_threads(int threads);
int get_num_threads();
// The cores this process may run on (its CPU affinity, as nproc counts them).
int num_cores();

}  // namespace nabla
