#include "support/parity.h"

#include <cmath>

namespace nabla::testing {

namespace {
void expect_near_all(const Tensor& cpu, const Tensor& gpu, const ParityTolerance& tol,
                     const std::string& what) {
  ASSERT_EQ(cpu.shape(), gpu.shape()) << what;
  const Tensor a = cpu.to(DType::Float32), b = gpu.to(Device::cpu()).to(DType::Float32);
  const std::vector<float> va = a.contiguous().to_vector<float>(),
                           vb = b.contiguous().to_vector<float>();
  for (size_t i = 0; i < va.size(); ++i)
    EXPECT_NEAR(vb[i], va[i], tol.atol + tol.rtol * std::fabs(va[i])) << what << ", element " << i;
}

struct Run {
  Tensor out;
  std::vector<Tensor> grads;
};

Run run_on(Device device, const std::function<Tensor(const std::vector<Tensor>&)>& f,
           const std::vector<Tensor>& inputs) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) {
    Tensor leaf = t.detach().to(device).clone().detach();
    if (leaf.dtype() == DType::Float32) leaf.requires_grad(true);
    leaves.push_back(leaf);
  }
  Run run;
  run.out = f(leaves);
  if (run.out.requires_grad() && run.out.dtype() == DType::Float32) {
    Generator gen(99);
    const Tensor r = Tensor::randn(run.out.shape(), &gen).to(device);
    (run.out * r).sum().backward();
    for (const Tensor& l : leaves) run.grads.push_back(l.grad());
  }
  return run;
}
}  // namespace

void expect_cpu_cuda_parity(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            const std::vector<Tensor>& inputs, ParityTolerance tol) {
  const Run cpu = run_on(Device::cpu(), f, inputs);
  const Run gpu = run_on(Device::cuda(), f, inputs);
  EXPECT_TRUE(gpu.out.device().is_cuda());
  expect_near_all(cpu.out, gpu.out, tol, "output");
  ASSERT_EQ(cpu.grads.size(), gpu.grads.size());
  for (size_t i = 0; i < cpu.grads.size(); ++i) {
    if (!cpu.grads[i].defined()) continue;
    ASSERT_TRUE(gpu.grads[i].defined()) << "input " << i;
    expect_near_all(cpu.grads[i], gpu.grads[i], tol, "gradient of input " + std::to_string(i));
  }
}

}  // namespace nabla::testing
