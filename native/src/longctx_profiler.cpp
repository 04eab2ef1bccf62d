// JNI functions of org.longctx.kernels.Profiler: PyTorch's own profiler (Kineto, with CUPTI for
// the GPU) around a stretch of longctx's work, saved as a Chrome trace — the same trace
// torch.profiler writes for a Python program, so the two can be compared kernel by kernel
// (`bench gpu --profile`, docs/gpu.md). Built when CMake finds libtorch's profiler header.
#include <torch/csrc/autograd/profiler_kineto.h>

#include <memory>
#include <set>
#include <string>

#include "jni_support.h"

namespace {

using longctx::guarded;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

std::string javaString(JNIEnv* env, jstring s) {
  const char* chars = env->GetStringUTFChars(s, nullptr);
  std::string out(chars);
  env->ReleaseStringUTFChars(s, chars);
  return out;
}

}  // namespace

extern "C" {

JNIEXPORT jboolean JNICALL Java_org_longctx_kernels_NativeLibrary_profilerAvailable(JNIEnv* env, jclass) { return JNI_TRUE; }

// Starts recording: operators on the CPU (on this thread, and in autograd's backward threads,
// which inherit the profiler state) and, where CUDA is present, kernels and copies on the GPU.
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_profilerStart(JNIEnv* env, jclass, jboolean cuda) {
  guarded<int>(env, 0, [&]() -> int {
    ProfilerConfig config(ProfilerState::KINETO);
    std::set<ActivityType> activities{ActivityType::CPU};
    if (cuda) activities.insert(ActivityType::CUDA);
    torch::autograd::profiler::prepareProfiler(config, activities);
    torch::autograd::profiler::enableProfiler(config, activities);
    return 0;
  });
}

// Stops recording and writes the Chrome trace (JSON) to path.
JNIEXPORT void JNICALL Java_org_longctx_kernels_NativeLibrary_profilerStop(JNIEnv* env, jclass, jstring path) {
  guarded<int>(env, 0, [&]() -> int {
    std::unique_ptr<torch::autograd::profiler::ProfilerResult> result = torch::autograd::profiler::disableProfiler();
    TORCH_CHECK(result != nullptr, "the profiler was not running");
    result->save(javaString(env, path));
    return 0;
  });
}

}  // extern "C"
