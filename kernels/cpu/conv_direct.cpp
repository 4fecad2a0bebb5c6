// Direct 2-D convolution for small channel counts and stride 1 (see conv_direct.h).
//
// Padded, wide layout: input planes are copied into zero-bordered planes (Hp, Wp) = (H + 2 pH,
// W + 2 pW), and outputs are computed in planes of OH rows with the same pitch Wp (the last
// Wp - OW columns of each row are scratch). Output (oy, ox) then reads the padded input at the
// flat index (oy Wp + ox) + (i dH Wp + j dW), so each kernel tap is one long contiguous
// multiply-add over L = (OH - 1) Wp + OW elements, with no bounds test and no short rows.
#include "kernels/cpu/conv_direct.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

using backend::Conv2dGeometry;

struct Wide {
  int64_t hp, wp;  // padded input plane
  int64_t len;     // L, the flat extent of one output plane in the wide layout
  int64_t in_plane() const { return hp * wp; }
};

Wide wide_layout(const backend::Conv2dGeometry& g) {
  Wide l;
  l.hp = g.h + 2 * g.pad_h, l.wp = g.w + 2 * g.pad_w;
  l.len = (g.out_h - 1) * l.wp + g.out_w;
  return l;
}

int64_t tap_offset(const backend::Conv2dGeometry& g, const Wide& l, int64_t i, int64_t j) {
  return i * g.dilation_h * l.wp + j * g.dilation_w;
}

// tap_offset of every tap, in row-major order.
std::vector<int64_t> tap_offsets(const backend::Conv2dGeometry& g, const Wide& l) {
  std::vector<int64_t> offsets(g.kh * g.kw);
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) offsets[i * g.kw + j] = tap_offset(g, l, i, j);
  return offsets;
}

// Rows here are short (28 and 14 floats in a small CNN), and a call to memmove per row costs
// more than the copy: fixed-size pieces, which the compiler turns into plain vector moves (a
// simple loop it would turn back into the call).
inline void copy_row(const float* src, int64_t n, float* dst) {
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) std::memcpy(dst + k, src + k, 16 * sizeof(float));
  if (n - k >= 8) std::memcpy(dst + k, src + k, 8 * sizeof(float)), k += 8;
  if (n - k >= 4) std::memcpy(dst + k, src + k, 4 * sizeof(float)), k += 4;
  for (; k < n; ++k) dst[k] = src[k];
}

// dst (planes, dst_rows, pitch) = zeros with src (planes, rows, cols) at (row0, col0).
void embed(const float* src, int64_t planes, int64_t rows, int64_t cols, float* dst,
           int64_t dst_rows, int64_t pitch, int64_t row0, int64_t col0) {
  for (int64_t p = 0; p < planes; ++p) {
    float* d = dst + p * dst_rows * pitch;
    std::fill(d, d + dst_rows * pitch, 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      copy_row(src + (p * rows + r) * cols, cols, d + (row0 + r) * pitch + col0);
  }
}

// dst (planes, rows, cols) = the window at (row0, col0) of src (planes, src_rows, pitch).
void extract(const float* src, int64_t src_rows, int64_t pitch, int64_t row0, int64_t col0,
             float* dst, int64_t planes, int64_t rows, int64_t cols) {
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t r = 0; r < rows; ++r)
      copy_row(src + (p * src_rows + row0 + r) * pitch + col0, cols, dst + (p * rows + r) * cols);
}

// Vector clones (kernels/cpu/loops.h): these loops and the two below are nearly all of the work.
NABLA_VECTOR_CLONES float dot(const float* __restrict a, const float* __restrict b, int64_t n) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t k = 0; k < n; ++k) acc += a[k] * b[k];
  return acc;
}

// dot(a, b + offsets[t], n) for kDots taps at once (a whole 3 x 3 kernel), so that a is loaded
// once for all of them. Each sum is its own simd reduction, lowered as dot's is, so the results
// are dot's bits (checked with GCC for the baseline, AVX2 and AVX-512).
constexpr int64_t kDots = 9;
NABLA_VECTOR_CLONES void dots(const float* __restrict a, const float* __restrict b,
                              const int64_t* offsets, int64_t n, float* out) {
  const float *b0 = b + offsets[0], *b1 = b + offsets[1], *b2 = b + offsets[2];
  const float *b3 = b + offsets[3], *b4 = b + offsets[4], *b5 = b + offsets[5];
  const float *b6 = b + offsets[6], *b7 = b + offsets[7], *b8 = b + offsets[8];
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f,
        s8 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7, s8)
  for (int64_t k = 0; k < n; ++k) {
    const float v = a[k];
    s0 += v * b0[k], s1 += v * b1[k], s2 += v * b2[k];
    s3 += v * b3[k], s4 += v * b4[k], s5 += v * b5[k];
    s6 += v * b6[k], s7 += v * b7[k], s8 += v * b8[k];
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3, out[4] = s4;
  out[5] = s5, out[6] = s6, out[7] = s7, out[8] = s8;
}

// Forward in registers: a block of kLanes consecutive outputs of kGroup output channels is
// accumulated over all input channels and taps before it is stored, so that each input vector
// loaded serves kGroup multiply-adds (a loop per tap would load and store it once per tap). GCC's
// generic vectors map onto the clone's registers.
constexpr int64_t kLanes = 16, kGroup = 4;
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));

// out[o, p] = init[o] + sum_{c, t} wg[c, t, o] in[c, p + offsets[t]] for o < n_out (at most
// kGroup) and p < len, each sum in (c, t) order. The last block may be partial: it reads up to
// kLanes - 1 floats past the input's end (the caller's slack) and stores only its first lanes.
NABLA_VECTOR_CLONES void correlate_blocks(const float* in, int64_t in_plane, int64_t channels,
                                          const int64_t* offsets, int64_t taps, const float* wg,
                                          const float* init, float* out, int64_t out_plane,
                                          int64_t n_out, int64_t len) {
  for (int64_t p = 0; p < len; p += kLanes) {
    Vec acc[kGroup];
    for (int64_t o = 0; o < kGroup; ++o) acc[o] = Vec{} + init[o];
    const float* wk = wg;
    for (int64_t c = 0; c < channels; ++c) {
      const float* src = in + c * in_plane + p;
      for (int64_t t = 0; t < taps; ++t, wk += kGroup) {
        Vec x;
        std::memcpy(&x, src + offsets[t], sizeof x);
        for (int64_t o = 0; o < kGroup; ++o) acc[o] += wk[o] * x;
      }
    }
    const auto bytes = static_cast<size_t>(std::min(kLanes, len - p)) * sizeof(float);
    for (int64_t o = 0; o < n_out; ++o) std::memcpy(out + o * out_plane + p, &acc[o], bytes);
  }
}

// Scratch from the caching allocator, so that steady-state training allocates nothing.
Tensor scratch(int64_t n) {
  return Tensor::empty({n});
}

// Per-image scratch, one slot per thread of the pool: the forward and the input gradient go
// image by image (embed, compute, extract) while the image's planes stay in the core's cache.
struct Slots {
  Tensor t;
  int64_t per_thread;
  explicit Slots(int64_t n) : t(scratch(n * pool_threads())), per_thread(n) {}
  float* mine() const { return t.data<float>() + thread_index() * per_thread; }
};

}  // namespace

bool use_direct_conv(const backend::Conv2dGeometry& g) {
  return g.groups == 1 && g.stride_h == 1 && g.stride_w == 1 &&
         g.pad_h <= g.dilation_h * (g.kh - 1) && g.pad_w <= g.dilation_w * (g.kw - 1) &&
         g.c_out * g.c_in * g.kh * g.kw <= 4096;
}

// y[n, o] = b[o] + sum_{c, i, j} w[o, c, i, j] xpad[n, c] shifted by tap (i, j). Output channels
// go in groups of kGroup through correlate_blocks.
void conv2d_direct_forward(const float* x, const float* w, const float* bias, float* y,
                           const backend::Conv2dGeometry& g) {
  const Wide l = wide_layout(g);
  const int64_t taps = g.kh * g.kw, groups = (g.c_out + kGroup - 1) / kGroup;
  const int64_t x_image = g.c_in * l.in_plane(), y_image = g.c_out * g.out_h * l.wp;
  const Slots slots(x_image + y_image + kLanes);  // slack for the last block's reads
  // Per group: weights (c_in, taps, kGroup) and bias (kGroup), zero for missing channels.
  const Tensor packed_t = scratch(groups * kGroup * (g.c_in * taps + 1));
  float* wpack = packed_t.data<float>();
  float* bpack = wpack + groups * kGroup * g.c_in * taps;
  std::fill(wpack, bpack + groups * kGroup, 0.0f);
  for (int64_t o = 0; o < g.c_out; ++o) {
    const int64_t grp = o / kGroup, lane = o % kGroup;
    bpack[o] = bias ? bias[o] : 0.0f;
    for (int64_t ct = 0; ct < g.c_in * taps; ++ct)
      wpack[(grp * g.c_in * taps + ct) * kGroup + lane] = w[o * g.c_in * taps + ct];
  }
  const std::vector<int64_t> offsets = tap_offsets(g, l);
  const int64_t work = std::max<int64_t>(1, g.c_out * g.c_in * taps * l.len);
  parallel_for(g.n, std::max<int64_t>(1, kParallelGrain / work), [&](int64_t b, int64_t e) {
    float* in_n = slots.mine();
    float* out_n = in_n + x_image;
    for (int64_t n = b; n < e; ++n) {
      embed(x + n * g.c_in * g.h * g.w, g.c_in, g.h, g.w, in_n, l.hp, l.wp, g.pad_h, g.pad_w);
      for (int64_t grp = 0; grp < groups; ++grp)
        correlate_blocks(in_n, l.in_plane(), g.c_in, offsets.data(), taps,
                         wpack + grp * g.c_in * taps * kGroup, bpack + grp * kGroup,
                         out_n + grp * kGroup * g.out_h * l.wp, g.out_h * l.wp,
                         std::min(kGroup, g.c_out - grp * kGroup), l.len);
      extract(out_n, g.out_h, l.wp, 0, 0, y + n * g.c_out * g.out_h * g.out_w, g.c_out, g.out_h,
              g.out_w);
    }
  });
}

// At stride 1 the input gradient is itself a stride-1 convolution: of dy, padded by
// d (k - 1) - p on each side, with the kernel flipped and its channel axes swapped. So it runs
// through the register-blocked forward. (A padding wider than d (k - 1) would need a negative
// one; the direct kernels are not chosen there.)
void conv2d_direct_backward_data(const float* dy, const float* w, float* dx,
                                 const backend::Conv2dGeometry& g) {
  backend::Conv2dGeometry t = g;
  t.c_in = g.c_out, t.h = g.out_h, t.w = g.out_w;
  t.c_out = g.c_in, t.out_h = g.h, t.out_w = g.w;
  t.pad_h = g.dilation_h * (g.kh - 1) - g.pad_h, t.pad_w = g.dilation_w * (g.kw - 1) - g.pad_w;
  const int64_t taps = g.kh * g.kw;
  const Tensor flipped_t = scratch(g.c_out * g.c_in * taps);
  float* flipped = flipped_t.data<float>();  // (C_in, C_out, kH, kW), taps reversed
  for (int64_t o = 0; o < g.c_out; ++o)
    for (int64_t c = 0; c < g.c_in; ++c)
      for (int64_t k = 0; k < taps; ++k)
        flipped[(c * g.c_out + o) * taps + taps - 1 - k] = w[(o * g.c_in + c) * taps + k];
  conv2d_direct_forward(dy, flipped, nullptr, dx, t);
}

// dw[o, c, i, j] = sum_n dot(dywide[n, o], xpad[n, c] shifted by tap (i, j)): a float dot per
// image, added in image order to a double total; threads split the (o, c) pairs. Each thread
// embeds, image by image, the planes its pairs read into its own slot.
void conv2d_direct_backward_filter(const float* dy, const float* x, float* dw,
                                   const backend::Conv2dGeometry& g) {
  const Wide l = wide_layout(g);
  const int64_t taps = g.kh * g.kw;
  const std::vector<int64_t> offsets = tap_offsets(g, l);
  const int64_t x_image = g.c_in * l.in_plane(), dy_plane = g.out_h * l.wp;
  const Slots slots(x_image + g.c_out * dy_plane);
  const int64_t work = std::max<int64_t>(1, g.n * taps * l.len);
  parallel_for(
      g.c_out * g.c_in, std::max<int64_t>(1, kParallelGrain / work), [&](int64_t b, int64_t e) {
        const int64_t o_begin = b / g.c_in, o_end = (e - 1) / g.c_in + 1;
        float* xpad = slots.mine();
        float* dywide = xpad + x_image;  // output channels o_begin .. o_end - 1
        std::vector<double> total((e - b) * taps, 0.0);
        float partial[kDots];
        for (int64_t n = 0; n < g.n; ++n) {
          embed(x + n * g.c_in * g.h * g.w, g.c_in, g.h, g.w, xpad, l.hp, l.wp, g.pad_h, g.pad_w);
          embed(dy + (n * g.c_out + o_begin) * g.out_h * g.out_w, o_end - o_begin, g.out_h, g.out_w,
                dywide, g.out_h, l.wp, 0, 0);
          for (int64_t pair = b; pair < e; ++pair) {
            const int64_t o = pair / g.c_in, c = pair % g.c_in;
            const float* gout = dywide + (o - o_begin) * dy_plane;
            const float* in = xpad + c * l.in_plane();
            double* sum = total.data() + (pair - b) * taps;
            int64_t t = 0;
            for (; t + kDots <= taps; t += kDots) {
              dots(gout, in, offsets.data() + t, l.len, partial);
              for (int64_t k = 0; k < kDots; ++k) sum[t + k] += partial[k];
            }
            for (; t < taps; ++t) sum[t] += dot(gout, in + offsets[t], l.len);
          }
        }
        for (int64_t pair = b; pair < e; ++pair)
          for (int64_t t = 0; t < taps; ++t)
            dw[pair * taps + t] = static_cast<float>(total[(pair - b) * taps + t]);
      });
}

}  // namespace nabla::cpu
