// The local communicator: a process that is its own job. Every collective is the identity.
#include "nabla/dist/communicator.h"
#include "nabla/error.h"

namespace nabla::dist {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string backend() const override { return "local"; }
  void all_reduce(Tensor& values, ReduceOp) override {
    NABLA_CHECK(values.dtype() == DType::Float32 && values.is_contiguous(),
                "all_reduce expects a contiguous float32 tensor");
  }
  void all_reduce(std::span<double>, ReduceOp) override {}
  std::vector<uint64_t> all_gather(uint64_t value) override { return {value}; }
  void broadcast(std::span<std::byte>, int root) override {
    NABLA_CHECK(root == 0, "broadcast: root {} is not a rank of a one-process job", root);
  }
  void barrier() override {}
};

}  // namespace

std::shared_ptr<Communicator> local_communicator() {
  return std::make_shared<LocalCommunicator>();
}

}  // namespace nabla::dist
