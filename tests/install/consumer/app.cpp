// A user's program built against an installed nabla through find_package(nabla).
#include <nabla/nabla.h>

int main() {
  nabla::Tensor x = nabla::Tensor::ones({2, 2}).requires_grad(true);
  (x * x).sum().backward();  // d/dx sum(x^2) = 2x: the gradients sum to 8
  const float total = x.grad().sum().item<float>();
  fmt::print("gradient sum {}\n", total);
  return total == 8.0f ? 0 : 1;
}
