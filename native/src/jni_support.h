// JNI plumbing shared by the library's sources: errors as Java exceptions, DJL tensor handles.
#pragma once

#include <jni.h>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace longctx {

// Errors reach Java as DJL's EngineException (what DJL's own JNI throws for ATen errors), so
// callers handle native failures (shape errors, out of memory) the way they handle DJL's.
inline void throwJava(JNIEnv* env, const std::string& message) {
  jclass cls = env->FindClass("ai/djl/engine/EngineException");
  if (cls == nullptr) {
    env->ExceptionClear();
    cls = env->FindClass("java/lang/RuntimeException");
  }
  env->ThrowNew(cls, message.c_str());
}

template <typename T, typename F>
inline T guarded(JNIEnv* env, T fallback, F&& body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    throwJava(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throwJava(env, e.what());
  }
  return fallback;
}

inline const at::Tensor& tensorAt(jlong handle, const char* what) {
  TORCH_CHECK(handle != 0, what, " is a null tensor handle");
  return *reinterpret_cast<torch::Tensor*>(handle);
}

inline jlong toHandle(const at::Tensor& t) { return reinterpret_cast<jlong>(new torch::Tensor(t)); }

inline std::vector<at::Tensor> tensorList(JNIEnv* env, jlongArray handles, const char* what) {
  const jsize n = env->GetArrayLength(handles);
  std::vector<jlong> raw(static_cast<size_t>(n));
  env->GetLongArrayRegion(handles, 0, n, raw.data());
  std::vector<at::Tensor> out;
  out.reserve(raw.size());
  for (jlong h : raw) out.push_back(tensorAt(h, what));
  return out;
}

}  // namespace longctx
