// Single-process tests of the distributed layer: the local communicator, batch slices, the
// checksum, and the data-parallel helper with one rank (every call the identity). The
// multi-process tests run dist_child under mpirun (tests/dist/CMakeLists.txt).
#include <gtest/gtest.h>

#include "nabla/dist/data_parallel.h"
#include "nabla/nabla.h"
#include "support/gradcheck.h"

namespace nabla {
namespace {

TEST(LocalCommunicator, CollectivesAreTheIdentity) {
  auto comm = dist::local_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_TRUE(comm->is_root());
  Tensor t = Tensor::from_vector({1.f, -2.f, 3.f}, {3});
  comm->all_reduce(t, dist::ReduceOp::Sum);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1.f, -2.f, 3.f}));
  double v[2] = {1.5, 2.5};
  comm->all_reduce(std::span<double>(v), dist::ReduceOp::Max);
  EXPECT_EQ(v[0], 1.5);
  EXPECT_EQ(comm->all_gather(42), std::vector<uint64_t>{42});
  comm->barrier();
}

TEST(LocalCommunicator, RejectsWhatAJobWouldReject) {
  auto comm = dist::local_communicator();
  Tensor ints = Tensor::zeros({4}, {.dtype = DType::Int64});
  EXPECT_THROW(comm->all_reduce(ints, dist::ReduceOp::Sum), Error);
  std::byte b{};
  EXPECT_THROW(comm->broadcast(std::span<std::byte>(&b, 1), 1), Error);
}

TEST(DataParallel, OneRankTakesTheWholeBatch) {
  dist::DataParallel parallel;
  EXPECT_FALSE(parallel.distributed());
  EXPECT_EQ(parallel.shard(64), (std::pair<int64_t, int64_t>{0, 64}));
  EXPECT_FALSE(parallel.any(false));
  EXPECT_TRUE(parallel.any(true));
}

TEST(DataParallel, OneRankLeavesGradientsAsTheyAre) {
  nn::Linear layer(3, 2);
  auto optimizer = optim::make_optimizer(layer, optim::SGDConfig{});
  const nn::ParameterArena& arena = *optimizer->arena();
  arena.flat_grads().copy_(Tensor::full({arena.size()}, 0.25));
  dist::DataParallel parallel;
  parallel.reduce_gradients(arena, 64, 64);
  parallel.check_parameters(arena, 1);
  for (float g : arena.flat_grads().to_vector<float>()) EXPECT_EQ(g, 0.25f);
}

TEST(Checksum, SeesEveryBit) {
  Tensor a = Tensor::from_vector({1.f, 2.f, 3.f, 4.f, 5.f}, {5});
  const uint64_t before = dist::checksum(a);
  EXPECT_EQ(dist::checksum(a.clone()), before);
  a.narrow(0, 4, 1).copy_(Tensor::full({1}, std::nextafter(5.f, 6.f)));  // one ulp, in the tail
  EXPECT_NE(dist::checksum(a), before);
}

TEST(Mpi, AvailabilityIsReportedAndItsAbsenceExplained) {
  if (dist::mpi_available()) GTEST_SKIP() << "built with MPI: dist_mpi_* run it under mpirun";
  EXPECT_THROW(dist::mpi_world(), Error);
}

}  // namespace
}  // namespace nabla
