#include "nabla/threads.h"

#include <cblas.h>
#include <omp.h>

#include "nabla/error.h"

namespace nabla {

void set_num_threads(int threads) {
  NABLA_CHECK(threads >= 1, "set_num_threads: expected at least 1 thread, got {}", threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace nabla
