// JNI functions of org.longctx.kernels.NcclCommunicator: gradient all-reduce between the
// data-parallel replicas of a run, one GPU each, with NCCL (built when CMake finds nccl.h).
//
// Communicators are non-blocking (ncclConfig_t.blocking = 0) so that a replica whose peer died
// fails its step after a timeout instead of hanging in a collective forever: every call waits by
// polling, and on an error or a timeout the communicator is aborted (ncclCommAbort) and the call
// throws, so the Spark task fails and the barrier stage is retried from the latest checkpoint.
// This is what PyTorch's ProcessGroupNCCL watchdog does with its timeout.
#include <nccl.h>

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <chrono>
#include <string>
#include <thread>

#include "jni_support.h"

namespace {

using longctx::guarded;
using longctx::tensorList;

struct Communicator {
  ncclComm_t comm;
  c10::DeviceIndex device;
};

std::string describe(ncclResult_t result, ncclComm_t comm) {
  std::string message = ncclGetErrorString(result);
  const char* last = ncclGetLastError(comm);
  if (last != nullptr && *last != '\0') message += std::string(" (") + last + ")";
  return message;
}

void check(ncclResult_t result, ncclComm_t comm, const char* what) {
  TORCH_CHECK(result == ncclSuccess || result == ncclInProgress, what, " failed: ", describe(result, comm));
}

// Aborts the communicator (frees it, and unblocks any kernel still waiting on a peer) and throws.
[[noreturn]] void fail(Communicator* c, const std::string& message) {
  if (c->comm != nullptr) {
    ncclCommAbort(c->comm);
    c->comm = nullptr;
  }
  TORCH_CHECK(false, message);
  throw std::logic_error("not reached");
}

// Waits until `done()` holds, polling NCCL's asynchronous error state; fails the communicator on
// an error or when timeoutMs passes first.
template <typename Done>
void await(Communicator* c, int64_t timeoutMs, const char* what, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (true) {
    ncclResult_t state = ncclSuccess;
    const ncclResult_t polled = ncclCommGetAsyncError(c->comm, &state);
    if (polled != ncclSuccess) state = polled;
    if (state != ncclSuccess && state != ncclInProgress) {
      fail(c, std::string(what) + ": NCCL error " + describe(state, c->comm));
    }
    if (state == ncclSuccess && done()) return;
    if (std::chrono::steady_clock::now() > deadline) {
      fail(c, std::string(what) + ": the other replicas did not answer within " + std::to_string(timeoutMs) +
                  " ms (distributed.timeout_s); the communicator was aborted");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

Communicator* communicator(jlong handle) {
  auto* c = reinterpret_cast<Communicator*>(handle);
  TORCH_CHECK(c != nullptr && c->comm != nullptr, "the NCCL communicator is closed or was aborted by an earlier failure");
  return c;
}

ncclDataType_t ncclTypeOf(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return ncclFloat32;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kDouble: return ncclFloat64;
    default: break;
  }
  TORCH_CHECK(false, "NCCL all-reduce takes float32, float16, bfloat16 or float64 tensors, got ", t.scalar_type());
  return ncclFloat32;
}

}  // namespace

extern "C" {

// NCCL's version as major * 10000 + minor * 100 + patch (ncclGetVersion); 0 = built without NCCL.
JNIEXPORT jint JNICALL Java_org_longctx_kernels_NativeLibrary_ncclVersion(JNIEnv* env, jclass) {
  return guarded<jint>(env, 0, [&]() -> jint {
    int version = 0;
    check(ncclGetVersion(&version), nullptr, "ncclGetVersion");
    return version;
  });
}

// A new ncclUniqueId (made by rank 0, handed to every rank before ncclOpen); it names rank 0's
// bootstrap socket, so it is made where rank 0 runs.
JNIEXPORT jbyteArray JNICALL Java_org_longctx_kernels_NativeLibrary_ncclUniqueId(JNIEnv* env, jclass) {
  return guarded<jbyteArray>(env, nullptr, [&]() -> jbyteArray {
    ncclUniqueId id;
    check(ncclGetUniqueId(&id), nullptr, "ncclGetUniqueId");
    jbyteArray out = env->NewByteArray(NCCL_UNIQUE_ID_BYTES);
    if (out != nullptr) env->SetByteArrayRegion(out, 0, NCCL_UNIQUE_ID_BYTES, reinterpret_cast<const jbyte*>(id.internal));
    return out;
  });
}

// Joins rank `rank` of `worldSize` on CUDA device `device`; returns the communicator's handle once
// every rank has joined, or throws after timeoutMs.
JNIEXPORT jlong JNICALL Java_org_longctx_kernels_NativeLibrary_ncclOpen(JNIEnv* env, jclass, jbyteArray uniqueId,
                                                                        jint worldSize, jint rank, jint device,
                                                                        jlong timeoutMs) {
  return guarded<jlong>(env, 0, [&]() -> jlong {
    TORCH_CHECK(env->GetArrayLength(uniqueId) == NCCL_UNIQUE_ID_BYTES, "an NCCL unique id has ", NCCL_UNIQUE_ID_BYTES,
                " bytes, got ", env->GetArrayLength(uniqueId));
    TORCH_CHECK(worldSize >= 1 && rank >= 0 && rank < worldSize, "rank ", rank, " of ", worldSize, " is not a rank");
    ncclUniqueId id;
    env->GetByteArrayRegion(uniqueId, 0, NCCL_UNIQUE_ID_BYTES, reinterpret_cast<jbyte*>(id.internal));
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    auto* c = new Communicator{nullptr, static_cast<c10::DeviceIndex>(device)};
    try {
      check(ncclCommInitRankConfig(&c->comm, worldSize, id, rank, &config), nullptr, "ncclCommInitRankConfig");
      await(c, timeoutMs, "NCCL communicator setup", [] { return true; });
    } catch (...) {
      if (c->comm != nullptr) ncclCommAbort(c->comm);
      delete c;
      throw;
    }
    return reinterpret_cast<jlong>(c);
  });
}

// Replaces every tensor, in place, by its mean over the ranks (ncclAvg), in one NCCL group on the
// device's current stream, and returns when the GPU has finished it. The tensors must be
// contiguous, on the communicator's device, and listed in the same order on every rank.
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_ncclAllReduceMean(JNIEnv* env, jclass, jlong handle,
                                                                               jlongArray tensors, jlong timeoutMs) {
  guarded<int>(env, 0, [&]() -> int {
    Communicator* c = communicator(handle);
    const std::vector<at::Tensor> ts = tensorList(env, tensors, "tensor");
    for (size_t i = 0; i < ts.size(); i++) {
      TORCH_CHECK(ts[i].is_cuda() && ts[i].device().index() == c->device, "tensor ", i, " is on ", ts[i].device(),
                  ", the communicator on cuda:", static_cast<int>(c->device));
      TORCH_CHECK(ts[i].is_contiguous(), "tensor ", i, " is not contiguous");
    }
    c10::cuda::CUDAGuard guard(c->device);
    const c10::cuda::CUDAStream stream = c10::cuda::getCurrentCUDAStream(c->device);
    check(ncclGroupStart(), c->comm, "ncclGroupStart");
    for (const at::Tensor& t : ts) {
      check(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), ncclTypeOf(t), ncclAvg, c->comm,
                          stream.stream()),
            c->comm, "ncclAllReduce");
    }
    check(ncclGroupEnd(), c->comm, "ncclGroupEnd");
    // queued (the group's enqueue may finish asynchronously), then done on the GPU
    await(c, timeoutMs, "gradient all-reduce", [&] { return stream.query(); });
    return 0;
  });
}

// Frees the communicator (after its pending operations, or at once when an earlier call aborted it).
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_ncclClose(JNIEnv* env, jclass, jlong handle,
                                                                        jlong timeoutMs) {
  guarded<int>(env, 0, [&]() -> int {
    auto* c = reinterpret_cast<Communicator*>(handle);
    if (c == nullptr) return 0;
    if (c->comm != nullptr) {
      try {
        check(ncclCommFinalize(c->comm), c->comm, "ncclCommFinalize");
        await(c, timeoutMs, "closing the NCCL communicator", [] { return true; });
        ncclCommDestroy(c->comm);
      } catch (...) {
        delete c;  // fail() aborted the communicator
        throw;
      }
    }
    delete c;
    return 0;
  });
}

}  // extern "C"
