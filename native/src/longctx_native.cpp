// JNI functions of org.longctx.kernels.NativeLibrary: ATen operations on DJL's tensor handles.
//
// DJL's PyTorch engine represents every NDArray by a pointer to a heap-allocated torch::Tensor
// (PtNDArray.getHandle()), created with `new torch::Tensor(...)` and freed with `delete` when the
// array closes. The functions below read such pointers, run ATen operations, and return results
// the same way, so Java wraps them with `new PtNDArray(manager, handle)` and DJL frees them.
// Operations run with the calling thread's autograd mode: inside DJL's GradientCollector they
// are recorded, and DJL's backward runs through them (NoGradGuard only where a function says).
#include <jni.h>

#include <torch/torch.h>

#include "jni_support.h"

#ifdef LONGCTX_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace {

using longctx::guarded;
using longctx::tensorAt;
using longctx::tensorList;
using longctx::throwJava;
using longctx::toHandle;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The dtype codes of org.longctx.kernels.KernelDType (its ordinal order).
at::ScalarType scalarTypeOf(jint code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kHalf;
    case 2: return at::kBFloat16;
    default: break;
  }
  TORCH_CHECK(false, "unknown dtype code ", code, " (0 float32, 1 float16, 2 bfloat16)");
  return at::kFloat;  // not reached: TORCH_CHECK(false, ...) throws
}

std::string dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "boolean";
    default: return c10::toString(t);
  }
}

// --- cross-entropy --------------------------------------------------------------------------

// Mean cross-entropy over the rows whose target is not ignoreIndex, computed in float32 from
// logits of any floating dtype without a float32 copy of the whole [rows, vocab] matrix: rows are
// processed in chunks, and backward recomputes the softmax chunk by chunk from the saved
// (low-precision) logits, the approach of Liger Kernel's fused linear cross-entropy (Hsu et al.,
// 2024, arXiv:2410.10989) without the fused matmul. Each chunk is one float32 (log-)softmax
// kernel read straight from the low-precision logits (at::log_softmax with dtype float32 takes
// float16 input without a separate cast on CUDA), a gather, and in backward a scatter and a
// scale: a handful of kernels per chunk, where a cast plus logsumexp took about ten.
// Semantics follow torch.nn.functional.cross_entropy(reduction="mean", ignore_index=...):
// when every target is ignored the result is 0/0 = NaN, as in PyTorch.
struct ChunkedCrossEntropy : public torch::autograd::Function<ChunkedCrossEntropy> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& targets,
                            int64_t ignoreIndex, int64_t chunkRows) {
    const int64_t rows = logits.size(0);
    const at::Tensor valid = targets.ne(ignoreIndex);                     // [rows] bool
    const at::Tensor safe = targets.masked_fill(valid.logical_not(), 0);  // [rows] int64
    at::Tensor picked = at::empty({rows}, logits.options().dtype(at::kFloat));  // log p(target), float32
    for (int64_t start = 0; start < rows; start += chunkRows) {
      const int64_t len = std::min(chunkRows, rows - start);
      const at::Tensor logp = at::log_softmax(logits.narrow(0, start, len), 1, at::kFloat);  // [len, vocab]
      picked.narrow(0, start, len).copy_(logp.gather(1, safe.narrow(0, start, len).unsqueeze(1)).squeeze(1));
    }
    const at::Tensor validF = valid.to(at::kFloat);
    const at::Tensor count = validF.sum();
    ctx->save_for_backward({logits, safe, validF, count});
    ctx->saved_data["chunk_rows"] = chunkRows;
    return -(picked * validF).sum() / count;
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& logits = saved[0];
    const at::Tensor& safe = saved[1];
    const at::Tensor& validF = saved[2];
    const at::Tensor& count = saved[3];
    const int64_t chunkRows = ctx->saved_data["chunk_rows"].toInt();
    const int64_t rows = logits.size(0);
    const at::Tensor rowScale = (validF * (gradOutputs[0].to(at::kFloat) / count)).unsqueeze(1);  // [rows, 1]
    at::Tensor grad = at::empty_like(logits, logits.options(), at::MemoryFormat::Contiguous);
    for (int64_t start = 0; start < rows; start += chunkRows) {
      const int64_t len = std::min(chunkRows, rows - start);
      const at::Tensor scale = rowScale.narrow(0, start, len);
      // d loss / d logits = (softmax - onehot(target)) * g / count on counted rows
      at::Tensor p = at::softmax(logits.narrow(0, start, len), 1, at::kFloat).mul_(scale);
      p.scatter_add_(1, safe.narrow(0, start, len).unsqueeze(1), scale.neg());
      grad.narrow(0, start, len).copy_(p);
    }
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// Rotary embedding as a function with its own backward. Forward is transformers'
// x·cos + rotate_half(x)·sin, rotate_half([x1, x2]) = [−x2, x1] over the halves of the last axis.
// Backward is the transpose: dx = g·cos + rotate_halfᵀ(g·sin), rotate_halfᵀ([y1, y2]) = [y2, −y1]
// (cos and sin are tables, never trained). Autograd would reach the same values through the
// recorded cat, slices and negation, but with a zero-filled buffer per slice and a sum per path:
// twice the kernels, for q and k of every layer.
struct Rope : public torch::autograd::Function<Rope> {
  static at::Tensor rotateHalf(const at::Tensor& x) {
    const int64_t half = x.size(-1) / 2;
    return at::cat({x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)}, -1);
  }

  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
    ctx->save_for_backward({cos, sin});
    return x.mul(cos).add(rotateHalf(x).mul(sin));
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& g = gradOutputs[0];
    const at::Tensor gs = g.mul(saved[1]);
    const int64_t half = gs.size(-1) / 2;
    const at::Tensor back = at::cat({gs.narrow(-1, half, half), gs.narrow(-1, 0, half).neg()}, -1);
    return {g.mul(saved[0]).add_(back), at::Tensor(), at::Tensor()};
  }
};

// --- multi-tensor helpers --------------------------------------------------------------------

jlongArray toHandleArray(JNIEnv* env, const std::vector<at::Tensor>& tensors) {
  std::vector<jlong> handles;
  handles.reserve(tensors.size());
  for (const at::Tensor& t : tensors) handles.push_back(toHandle(t));
  jlongArray out = env->NewLongArray(static_cast<jsize>(handles.size()));
  if (out != nullptr) env->SetLongArrayRegion(out, 0, static_cast<jsize>(handles.size()), handles.data());
  return out;
}

std::vector<at::Tensor> gradientsOf(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> grads;
  grads.reserve(params.size());
  for (size_t i = 0; i < params.size(); i++) {
    const at::Tensor& g = params[i].grad();
    TORCH_CHECK(g.defined(), "parameter ", i, " has no gradient (backward did not reach it)");
    grads.push_back(g);
  }
  return grads;
}

}  // namespace

extern "C" {

// Causal scaled-dot-product attention. q [batch, heads, qLen, headDim], k/v [batch, kvHeads,
// kLen, headDim], heads a multiple of kvHeads (grouped-query attention: query head h reads kv
// head h / (heads / kvHeads), as transformers' repeat_kv). offset = kLen - qLen cached keys
// precede the first query: query i sees keys 0 ... offset + i (the bottom-right-aligned causal
// mask). scale <= 0 means 1/sqrt(headDim). explicitMask forces the boolean-mask path even when
// offset is 0 (used to check that path against the is_causal one).
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_attention(JNIEnv* env, jclass, jlong q, jlong k,
                                                                          jlong v, jlong offset, jdouble scale,
                                                                          jboolean explicitMask) {
  return guarded<jlong>(env, 0, [&]() -> jlong {
    const at::Tensor& query = tensorAt(q, "query");
    const at::Tensor& key = tensorAt(k, "key");
    const at::Tensor& value = tensorAt(v, "value");
    TORCH_CHECK(query.dim() == 4 && key.dim() == 4 && value.dim() == 4,
                "attention wants 4-d q, k, v [batch, heads, len, headDim], got ", query.sizes(), ", ",
                key.sizes(), ", ", value.sizes());
    const int64_t qLen = query.size(2);
    const int64_t kLen = key.size(2);
    TORCH_CHECK(offset == kLen - qLen, "offset ", offset, " must equal kLen - qLen = ", kLen - qLen);
    const bool gqa = query.size(1) != key.size(1);
    const std::optional<double> scaleOpt = scale > 0 ? std::optional<double>(scale) : std::nullopt;
    if (offset == 0 && !explicitMask) {
      // is_causal=true lets SDPA pick FlashAttention-2 / memory-efficient kernels (no mask tensor).
      return toHandle(at::scaled_dot_product_attention(query, key, value, std::nullopt, 0.0, true, scaleOpt, gqa));
    }
    // PyTorch's is_causal is top-left aligned (query i sees keys 0..i), which is wrong once cached
    // keys precede the queries; the boolean mask (true = may attend) is bottom-right aligned.
    const at::Tensor mask = at::ones({qLen, kLen}, query.options().dtype(at::kBool)).tril(offset);
    return toHandle(at::scaled_dot_product_attention(query, key, value, mask, 0.0, false, scaleOpt, gqa));
  });
}

// The layer operations of the forward pass as one call each (each is several DJL operations, and
// every DJL operation is a JNI crossing plus a Java array to manage and close; on small GPU steps
// that host time leaves the GPU waiting, docs/gpu.md). They compute what the pure-DJL path
// computes, up to rounding: RMSNorm is PyTorch's fused kernel, silu one kernel, and the rope's
// backward is written out (each says how below).

// RMSNorm: weight · x / sqrt(mean(x²) + eps), with the mean and the division in float32:
// at::rms_norm, which on GPUs is PyTorch's fused kernel (one kernel forward, one or two backward,
// where the composed form takes eight and about ten). It rounds once, after the weight; the DJL
// path (and transformers' LlamaRMSNorm) round the normed value to x's dtype before the weight,
// so the two differ by that one rounding (docs/gpu.md has the parity).
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_rmsNorm(JNIEnv* env, jclass, jlong x, jlong weight,
                                                                        jdouble eps) {
  return guarded<jlong>(env, 0, [&]() -> jlong {
    const at::Tensor& input = tensorAt(x, "x");
    const at::Tensor& w = tensorAt(weight, "weight");
    return toHandle(at::rms_norm(input, {input.size(-1)}, w, static_cast<double>(eps)));
  });
}

// Rotary embedding on x [batch, heads, seq, headDim] with cos/sin broadcasting against it:
// x·cos + rotate_half(x)·sin, rotate_half([x1, x2]) = [−x2, x1] over the halves of the last axis.
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_rope(JNIEnv* env, jclass, jlong x, jlong cos, jlong sin) {
  return guarded<jlong>(env, 0, [&]() -> jlong {
    return toHandle(Rope::apply(tensorAt(x, "x"), tensorAt(cos, "cos").detach(), tensorAt(sin, "sin").detach()));
  });
}

// SwiGLU's gate: silu(gate) · up. at::silu is one kernel (transformers' nn.SiLU), where the DJL
// path computes gate · sigmoid(gate) in two, each rounded: the results agree to rounding.
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_swiGlu(JNIEnv* env, jclass, jlong gate, jlong up) {
  return guarded<jlong>(env, 0, [&]() -> jlong {
    return toHandle(at::silu(tensorAt(gate, "gate")).mul(tensorAt(up, "up")));
  });
}

// x.to(dtype), recorded by autograd (DJL's toType runs under NoGradGuard and cuts the graph).
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_cast(JNIEnv* env, jclass, jlong x, jint code) {
  return guarded<jlong>(env, 0, [&]() -> jlong { return toHandle(tensorAt(x, "x").to(scalarTypeOf(code))); });
}

JNIEXPORT jstring JNICALL Java_org_longctx_kernels_NativeLibrary_dtype(JNIEnv* env, jclass, jlong x) {
  const std::string name = guarded<std::string>(env, "", [&]() { return dtypeName(tensorAt(x, "x").scalar_type()); });
  return env->ExceptionCheck() ? nullptr : env->NewStringUTF(name.c_str());
}

// Mean cross-entropy: logits [..., vocab] (any float dtype), targets [...] integer; a float32
// scalar. Rows with target == ignoreIndex count neither in the sum nor in the mean.
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_crossEntropy(JNIEnv* env, jclass, jlong logits,
                                                                             jlong targets, jlong ignoreIndex,
                                                                             jlong chunkRows) {
  return guarded<jlong>(env, 0, [&]() -> jlong {
    const at::Tensor& x = tensorAt(logits, "logits");
    const at::Tensor& t = tensorAt(targets, "targets");
    TORCH_CHECK(x.dim() >= 1 && c10::isFloatingType(x.scalar_type()), "logits must be floating [..., vocab], got ",
                x.scalar_type(), " ", x.sizes());
    TORCH_CHECK(!c10::isFloatingType(t.scalar_type()), "targets must be integer, got ", t.scalar_type());
    TORCH_CHECK(chunkRows > 0, "chunkRows must be positive, got ", chunkRows);
    const at::Tensor rows = x.reshape({-1, x.size(-1)});  // [rows, vocab]
    const at::Tensor flatTargets = t.reshape({-1}).to(at::kLong).detach();
    TORCH_CHECK(rows.size(0) == flatTargets.size(0), "logits have ", rows.size(0), " rows but targets ",
                flatTargets.size(0));
    return toHandle(ChunkedCrossEntropy::apply(rows, flatTargets, static_cast<int64_t>(ignoreIndex),
                                               static_cast<int64_t>(chunkRows)));
  });
}

// at::cross_entropy_loss on the logits as they are (mean, ignoreIndex), for comparison with the
// chunked float32 version in the checks: on low-precision logits PyTorch's CUDA log_softmax
// accumulates in float32 but stores its [rows, vocab] result, and so the log-probabilities that
// backward reads, in the logits' dtype.
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_crossEntropyAten(JNIEnv* env, jclass, jlong logits,
                                                                                 jlong targets, jlong ignoreIndex) {
  return guarded<jlong>(env, 0, [&]() -> jlong {
    const at::Tensor& x = tensorAt(logits, "logits");
    const at::Tensor rows = x.reshape({-1, x.size(-1)});
    const at::Tensor flatTargets = tensorAt(targets, "targets").reshape({-1}).to(at::kLong).detach();
    return toHandle(at::cross_entropy_loss(rows, flatTargets, std::nullopt, at::Reduction::Mean,
                                           static_cast<int64_t>(ignoreIndex), 0.0));
  });
}

// One AdamW step over all parameters with PyTorch's multi-tensor fused kernel (what
// torch.optim.AdamW(fused=True) calls): decoupled weight decay (Loshchilov & Hutter, 2019),
// bias-corrected moments. Like torch.optim.AdamW, the per-parameter step counters (float32
// scalars on the parameters' device) are incremented before the update; with foundInf (a float32
// scalar, 1 where the loss scaler saw inf/NaN) the kernel skips the update and the counters are
// decremented again. gradScale (optional) divides the gradients inside the kernel.
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_fusedAdamW(
    JNIEnv* env, jclass, jlongArray params, jlongArray grads, jlongArray expAvgs, jlongArray expAvgSqs,
    jlongArray steps, jdouble lr, jdouble beta1, jdouble beta2, jdouble weightDecay, jdouble eps, jlong gradScale,
    jlong foundInf) {
  guarded<int>(env, 0, [&]() -> int {
    at::NoGradGuard noGrad;  // an in-place update of autograd leaves must not be recorded
    std::vector<at::Tensor> p = tensorList(env, params, "param");
    std::vector<at::Tensor> g = tensorList(env, grads, "grad");
    std::vector<at::Tensor> m = tensorList(env, expAvgs, "exp_avg");
    std::vector<at::Tensor> s = tensorList(env, expAvgSqs, "exp_avg_sq");
    std::vector<at::Tensor> st = tensorList(env, steps, "state_step");
    std::optional<at::Tensor> scaleOpt;
    std::optional<at::Tensor> infOpt;
    if (gradScale != 0) scaleOpt = tensorAt(gradScale, "gradScale");
    if (foundInf != 0) infOpt = tensorAt(foundInf, "foundInf");
    at::_foreach_add_(st, 1);
    at::_fused_adamw_(p, g, m, s, /*max_exp_avg_sqs=*/{}, st, lr, beta1, beta2, weightDecay, eps,
                      /*amsgrad=*/false, /*maximize=*/false, scaleOpt, infOpt);
    if (infOpt.has_value()) {
      at::_foreach_sub_(st, std::vector<at::Tensor>(st.size(), *infOpt));
    }
    return 0;
  });
}

// --- multi-tensor gradient operations ----------------------------------------------------------
// One JNI call per optimizer phase instead of one DJL operation (a JNI crossing, an allocation and
// a kernel launch) per parameter: torch's _foreach_* kernels, which torch.nn.utils.clip_grad_norm_
// and torch.amp.GradScaler use with foreach=True, treat many tensors per launch, so the host-side
// cost of a step does not grow with the number of parameter tensors.

// The parameters' gradients as float32, times multiplier: a float32 gradient is the parameter's
// own gradient tensor, multiplied in place; any other dtype is a float32 copy (unscaling in
// float16 would flush the small gradients loss scaling keeps).
JNIEXPORT jlongArray JNICALL Java_org_longctx_kernels_NativeLibrary_float32Gradients(JNIEnv* env, jclass,
                                                                                    jlongArray params,
                                                                                    jdouble multiplier) {
  std::vector<at::Tensor> out;
  const bool ok = guarded<bool>(env, false, [&]() -> bool {
    at::NoGradGuard noGrad;
    // float32 copies in one multi-tensor copy (a few kernel launches for all parameters, where a
    // cast per parameter left the GPU waiting for the host between tiny kernels)
    std::vector<at::Tensor> copies;
    std::vector<at::Tensor> sources;
    for (const at::Tensor& g : gradientsOf(tensorList(env, params, "param"))) {
      if (g.scalar_type() == at::kFloat) {
        out.push_back(g);
      } else {
        out.push_back(at::empty_like(g, g.options().dtype(at::kFloat), at::MemoryFormat::Contiguous));
        copies.push_back(out.back());
        sources.push_back(g);
      }
    }
    if (!copies.empty()) at::_foreach_copy_(copies, sources);
    if (multiplier != 1.0) at::_foreach_mul_(out, at::Scalar(multiplier));
    return true;
  });
  return ok ? toHandleArray(env, out) : nullptr;
}

// The L2 norm of all tensors together, as clip_grad_norm_ computes it: the norm of the per-tensor
// norms (float32). One device-to-host transfer.
JNIEXPORT jdouble JNICALL Java_org_longctx_kernels_NativeLibrary_globalNorm(JNIEnv* env, jclass,
                                                                            jlongArray tensors) {
  return guarded<jdouble>(env, 0.0, [&]() -> jdouble {
    at::NoGradGuard noGrad;
    const std::vector<at::Tensor> t = tensorList(env, tensors, "tensor");
    TORCH_CHECK(!t.empty(), "globalNorm wants at least one tensor");
    return at::stack(at::_foreach_norm(t, 2)).norm().item<double>();
  });
}

// tensors[i] *= factor, in place.
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_multiplyInPlace(JNIEnv* env, jclass,
                                                                              jlongArray tensors, jdouble factor) {
  guarded<int>(env, 0, [&]() -> int {
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> t = tensorList(env, tensors, "tensor");
    at::_foreach_mul_(t, at::Scalar(factor));
    return 0;
  });
}

// Writes zeros into every parameter's accumulated gradient (NaN and infinity included).
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_zeroGradients(JNIEnv* env, jclass,
                                                                            jlongArray params) {
  guarded<int>(env, 0, [&]() -> int {
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> grads;
    for (const at::Tensor& p : tensorList(env, params, "param")) {
      if (p.grad().defined()) grads.push_back(p.grad());
    }
    if (!grads.empty()) at::_foreach_zero_(grads);
    return 0;
  });
}

// targets[i].copy_(sources[i]) (rounding to the target's dtype), in place and not recorded, so
// targets may be autograd leaves (float16 parameters receiving their float32 master weights).
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_copyInto(JNIEnv* env, jclass, jlongArray targets,
                                                                       jlongArray sources) {
  guarded<int>(env, 0, [&]() -> int {
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> dst = tensorList(env, targets, "target");
    const std::vector<at::Tensor> src = tensorList(env, sources, "source");
    TORCH_CHECK(dst.size() == src.size(), "copyInto wants lists of one length, got ", dst.size(), " targets and ",
                src.size(), " sources");
    for (size_t i = 0; i < dst.size(); i++) {
      TORCH_CHECK(dst[i].sizes() == src[i].sizes(), "copyInto target ", i, " has shape ", dst[i].sizes(),
                  " but source ", src[i].sizes());
    }
    if (!dst.empty()) at::_foreach_copy_(dst, src);  // one multi-tensor copy, not a launch per tensor
    return 0;
  });
}

// TF32 for float32 matmuls (cuBLAS) and convolutions (cuDNN): torch.backends.cuda.matmul.allow_tf32.
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_setTf32(JNIEnv* env, jclass, jboolean on) {
  guarded<int>(env, 0, [&]() -> int {
    at::globalContext().setAllowTF32CuBLAS(on);
    at::globalContext().setAllowTF32CuDNN(on);
    return 0;
  });
}

JNIEXPORT jboolean JNICALL Java_org_longctx_kernels_NativeLibrary_tf32(JNIEnv* env, jclass) {
  return guarded<jboolean>(env, JNI_FALSE, [&]() -> jboolean { return at::globalContext().allowTF32CuBLAS(); });
}

// Waits for all work queued on the device (timings).
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_synchronize(JNIEnv* env, jclass, jint device) {
  guarded<int>(env, 0, [&]() -> int {
#ifdef LONGCTX_WITH_CUDA
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    c10::cuda::device_synchronize();
#endif
    return 0;
  });
}

// The caching allocator's peak of allocated bytes since the last reset (torch.cuda.max_memory_allocated);
// -1 without CUDA.
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_peakMemory(JNIEnv* env, jclass, jint device) {
  return guarded<jlong>(env, -1, [&]() -> jlong {
#ifdef LONGCTX_WITH_CUDA
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    return static_cast<jlong>(stats.allocated_bytes[0].peak);  // index 0: StatType::AGGREGATE
#else
    return -1;
#endif
  });
}

// Bytes the caching allocator has handed out now (torch.cuda.memory_allocated); -1 without CUDA.
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_allocatedMemory(JNIEnv* env, jclass, jint device) {
  return guarded<jlong>(env, -1, [&]() -> jlong {
#ifdef LONGCTX_WITH_CUDA
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    return static_cast<jlong>(stats.allocated_bytes[0].current);
#else
    return -1;
#endif
  });
}

JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_resetPeakMemory(JNIEnv* env, jclass, jint device) {
  guarded<int>(env, 0, [&]() -> int {
#ifdef LONGCTX_WITH_CUDA
    c10::cuda::CUDACachingAllocator::emptyCache();
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
#endif
    return 0;
  });
}

#ifndef LONGCTX_WITH_NCCL
// Built without NCCL (no nccl.h at build time): the Java side reads 0 and never calls the other
// NCCL functions (longctx_nccl.cpp).
JNIEXPORT jint JNICALL Java_org_longctx_kernels_NativeLibrary_ncclVersion(JNIEnv* env, jclass) { return 0; }
#endif

#ifndef LONGCTX_WITH_PROFILER
// Built without the profiler (longctx_profiler.cpp): the Java side reads false and never calls
// the other profiler functions.
JNIEXPORT jboolean JNICALL Java_org_longctx_kernels_NativeLibrary_profilerAvailable(JNIEnv* env, jclass) { return JNI_FALSE; }
#endif

}  // extern "C"
