// A training step's zero_grad, forward, loss and backward captured once as a CUDA graph and
// replayed for every full batch: one launch instead of one per op, for small models whose steps
// are bound by launch overhead. Each batch is copied into fixed device buffers; the loss and the
// correct count stay on the device until read. The optimizer step runs eagerly after it: its
// scalars change every step, and it may skip a non-finite update.
#pragma once

#include <cstdint>

#include "nabla/nn/module.h"
#include "nabla/optim/optimizer.h"
#include "nabla/train/trainer.h"

namespace nabla::train {

// The number of correct predictions of a batch as a scalar tensor on the output's device, when
// the targets are class indices of (N, C) outputs; undefined otherwise.
Tensor correct_predictions(const Tensor& output, const Tensor& target);

class CapturedStep {
 public:
  // Captures the step for batches shaped as (x, y), on the host or the device, without running it.
  // Throws a nabla::Error saying why when the step cannot be captured (it reads values back from
  // the device, as batch norm does, or draws random numbers, as dropout does).
  CapturedStep(nn::Module& model, const LossFn& loss, optim::Optimizer& optimizer, const Tensor& x,
               const Tensor& y);
  ~CapturedStep();
  CapturedStep(const CapturedStep&) = delete;
  CapturedStep& operator=(const CapturedStep&) = delete;

  bool fits(const Tensor& x, const Tensor& y) const;
  struct Result {
    double loss;
    int64_t correct;
  };
  // Copies the batch in, replays the step and waits for its loss and correct count.
  Result run(const Tensor& x, const Tensor& y);

 private:
  Device device_;
  Tensor x_, y_;           // the batch, on the device
  Tensor loss_, correct_;  // written by each replay
  int64_t classes_ = 0;    // > 0: y holds class indices, checked on the host
  void* graph_ = nullptr;
};

}  // namespace nabla::train
