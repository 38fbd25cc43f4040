/*
 * The Java binding's SWIG interface: module QixNative in package org.libqix (the package is given by CMake
 * with -package). It generates the JNI shim libqix_java.so and a package-private Java layer; the public
 * API is hand-written on top of it (bindings/java/src/main/java/org/libqix).
 *
 * What this file decides, before it includes the shared policy (../swig/qix_common.i):
 *  - every generated class is package-private and named Native<Class> (renamed by rule), methods are
 *    lowerCamelCase (by rule); no finalizers (objects are freed by the hand-written close() methods);
 *  - strings cross as real UTF-8 (byte[] + java.nio), not JNI's "modified UTF-8", so JSON text with
 *    characters outside the BMP survives both ways;
 *  - qix::Error becomes org.libqix.QixException, built in the same native call that failed;
 *  - events: one director, qixjava::Events (qix_java.hpp), with integer tokens. The facade's per-listener
 *    interfaces (CallListener, ObjectListener, SessionListener) are not used from Java, so this file does
 *    not define QIX_SWIG_DIRECTORS and leaves them out: a per-listener director cannot be freed safely
 *    (qix_java.hpp says why).
 *  - thread attach: a libqix thread is attached to the JVM at its first upcall, as a daemon, and detached
 *    when it ends (when its context is freed), never per callback.
 */
%module(directors="1") QixNative

/* Before SWIG's runtime (director.swg), which reads them. */
%begin %{
#define SWIG_JAVA_ATTACH_CURRENT_THREAD_AS_DAEMON
#define SWIG_JAVA_DETACH_ON_THREAD_END
%}
%{
#include "qix_java.hpp"
%}

/* ---- Visibility: nothing generated is public API. ---------------------------------------------------- */
%typemap(javaclassmodifiers) SWIGTYPE "class"
%typemap(javaclassmodifiers) enum SWIGTYPE "final class"
%pragma(java) moduleclassmodifiers="final class"
%pragma(java) jniclassclassmodifiers="final class"
/* The natives are loaded (from java.library.path or the jar) before the first native method runs. */
%pragma(java) jniclasscode=%{
  static {
    NativeLoader.load();
  }
%}
/* No finalize(): native objects are released by the hand-written close() methods, deterministically. */
%typemap(javafinalize) SWIGTYPE ""

/* ---- Names by rule. ---------------------------------------------------------------------------------- */
%rename("Native%s", %$isclass) "";
%rename("%(lowercamelcase)s", %$isfunction) "";

/* ---- Enums of qix.h as plain int constants (the public API has its own Java enums). -------------------- */
%include <enumtypeunsafe.swg>
%javaconst(1);
/* The version macros are read at run time with version(); keep them out of a public constants interface. */
%rename("$ignore", regextarget=1) "^QIX_VERSION_";
%rename("$ignore") QIX_API;

/* ---- Strings: UTF-8 bytes both ways. ------------------------------------------------------------------- */
%include <std_string.i>  /* first, so that the shared policy's %include of it is a no-op and these win */

%typemap(jni) std::string, const std::string & "jbyteArray"
%typemap(jtype) std::string, const std::string & "byte[]"
%typemap(jstype) std::string, const std::string & "String"
%typemap(javain) std::string, const std::string & "Utf8.encode($javainput)"
%typemap(javaout) std::string, const std::string & {
    return Utf8.decode($jnicall);
  }
%typemap(in) std::string %{
  if (!qixjava_bytes_to_string(jenv, $input, $1)) return $null;
%}
%typemap(in) const std::string & ($*1_ltype temp) %{
  if (!qixjava_bytes_to_string(jenv, $input, temp)) return $null;
  $1 = &temp;
%}
%typemap(out) std::string %{ $result = qixjava_string_to_bytes(jenv, $1); %}
%typemap(out) const std::string & %{ $result = qixjava_string_to_bytes(jenv, *$1); %}
/* descriptor: the Java method's parameter type (the upcall itself passes byte[], from the jni typemap). */
%typemap(directorin, descriptor="Ljava/lang/String;") const std::string & %{
  $input = qixjava_string_to_bytes(jenv, $1);
  Swig::LocalRefGuard $1_refguard(jenv, $input);
%}
%typemap(javadirectorin) const std::string & "Utf8.decode($jniinput)"
/* object_call's method and params come as UTF-8 bytes the Java side encoded (and may reuse: Utf8.Cache). */
%typemap(jstype) const std::string & method_utf8, const std::string & params_utf8 "byte[]"
%typemap(javain) const std::string & method_utf8, const std::string & params_utf8 "$javainput"

%{
/* Java byte[] (UTF-8) -> std::string. False (with a Java exception pending) on null. */
static bool qixjava_bytes_to_string(JNIEnv* jenv, jbyteArray bytes, std::string& out) {
  if (!bytes) {
    SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "null string");
    return false;
  }
  jsize n = jenv->GetArrayLength(bytes);
  out.resize(static_cast<size_t>(n));
  if (n > 0) jenv->GetByteArrayRegion(bytes, 0, n, reinterpret_cast<jbyte*>(&out[0]));
  return true;
}

/* std::string -> a new Java byte[] (UTF-8); NULL with OutOfMemoryError pending. */
static jbyteArray qixjava_string_to_bytes(JNIEnv* jenv, const std::string& s) {
  jsize n = static_cast<jsize>(s.size());
  jbyteArray bytes = jenv->NewByteArray(n);
  if (bytes && n > 0) jenv->SetByteArrayRegion(bytes, 0, n, reinterpret_cast<const jbyte*>(s.data()));
  return bytes;
}

/* Throws org.libqix.QixException with the details of @p e (in the calling thread, from a native method). */
static void qixjava_throw(JNIEnv* jenv, const qix::Error& e) {
  if (jenv->ExceptionCheck()) return;
  jclass cls = jenv->FindClass("org/libqix/QixException");
  if (!cls) return; /* NoClassDefFoundError pending */
  jmethodID ctor = jenv->GetMethodID(cls, "<init>", "(II[B[B[BZ)V");
  if (ctor) {
    jbyteArray name = qixjava_string_to_bytes(jenv, e.name());
    jbyteArray parameter = qixjava_string_to_bytes(jenv, e.parameter());
    jbyteArray message = qixjava_string_to_bytes(jenv, e.message());
    if (name && parameter && message) {
      jobject ex = jenv->NewObject(cls, ctor, static_cast<jint>(e.status()), static_cast<jint>(e.engine_code()),
                                   name, parameter, message, static_cast<jboolean>(e.retriable()));
      if (ex) {
        jenv->Throw(static_cast<jthrowable>(ex));
        jenv->DeleteLocalRef(ex);
      }
    }
    if (name) jenv->DeleteLocalRef(name);
    if (parameter) jenv->DeleteLocalRef(parameter);
    if (message) jenv->DeleteLocalRef(message);
  }
  jenv->DeleteLocalRef(cls);
}
%}

/* ---- Errors: qix::Error -> QixException, from the same native call. ----------------------------------- */
%exception {
  try {
    $action
  } catch (const qix::Error& e) {
    qixjava_throw(jenv, e);
    return $null;
  } catch (const std::bad_alloc&) {
    SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "libqix: out of memory");
    return $null;
  } catch (const std::exception& e) {
    SWIG_JavaThrowException(jenv, SWIG_JavaRuntimeException, e.what());
    return $null;
  } catch (...) {
    SWIG_JavaThrowException(jenv, SWIG_JavaRuntimeException, "libqix: unknown C++ exception");
    return $null;
  }
}

/* ---- The one director. ------------------------------------------------------------------------------- */
%feature("director") qixjava::Events;
/* The Java implementation catches everything it runs; should anything still escape (an Error thrown while
   reporting), print it and clear it here: a libqix thread must never carry a pending Java exception, and a
   C++ exception must never unwind into libqix. */
%feature("director:except") %{
  if (jenv->ExceptionCheck()) {
    jenv->ExceptionDescribe();
    jenv->ExceptionClear();
  }
%}

/* ---- What is wrapped from the facade (the rest is reached through qix_java.hpp). ----------------------- */
%warnfilter(401) qix::Error;  /* its base std::runtime_error is not wrapped: message() gives the text */
%ignore qix::Error::Error;
%ignore qix::CallListener;
%ignore qix::ObjectListener;
%ignore qix::SessionListener;
%ignore qix::Object::call_async;
%ignore qix::Object::add_listener;
%ignore qix::Object::remove_listener;
%ignore qix::Object::watch;
%ignore qix::Session::call_async;
%ignore qix::Session::add_listener;
%ignore qix::Session::remove_listener;
%ignore qix::Result::Result;
%ignore qix::Result::throw_if_error;

%include "../swig/qix_common.i"
%include "qix_java.hpp"
