// The native part of the `onnxopt` Python package: onnx-opt's driver run in
// process, its output captured. The package (python/onnxopt/__init__.py)
// builds the command line: options are parsed in one place, the driver's.
#include "driver/OnnxOptMain.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "llvm/Support/raw_ostream.h"

namespace py = pybind11;

namespace {

/// Sends file descriptor `fd` to a temporary file until destroyed, then
/// restores it; `text()` is what was written meanwhile.
class Redirect {
public:
  explicit Redirect(int fd) : fd_(fd) {
    file_ = std::tmpfile();
    if (!file_)
      throw std::runtime_error("onnxopt: cannot create a temporary file");
    saved_ = dup(fd_);
    dup2(fileno(file_), fd_);
  }
  ~Redirect() { restore(); }
  std::string text() {
    restore();
    std::rewind(file_);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;)
      out.append(buf, n);
    return out;
  }

private:
  void restore() {
    if (saved_ < 0)
      return;
    dup2(saved_, fd_);
    close(saved_);
    saved_ = -1;
  }
  int fd_, saved_ = -1;
  std::FILE *file_ = nullptr;
};

/// Runs the driver on `args` (argv without the program name). With
/// `capture`, returns what it printed to stdout and stderr; without, they go
/// to the process's own. One run at a time (the driver has process state);
/// the GIL is released meanwhile.
py::tuple run(const std::vector<std::string> &args, bool capture) {
  static std::mutex mu;
  int code;
  std::string out, err;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> argv{"onnx-opt"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char *> ptrs;
    for (std::string &a : argv)
      ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    if (capture) {
      Redirect o(1), e(2);
      code = onnxopt::onnxOptMain(int(argv.size()), ptrs.data());
      llvm::outs().flush();
      llvm::errs().flush();
      std::fflush(stdout);
      std::fflush(stderr);
      out = o.text();
      err = e.text();
    } else {
      code = onnxopt::onnxOptMain(int(argv.size()), ptrs.data());
      llvm::outs().flush();
      llvm::errs().flush();
    }
  }
  return py::make_tuple(code, py::bytes(out), py::bytes(err));
}

} // namespace

PYBIND11_MODULE(_onnxopt, m) {
  m.doc() = "onnx-opt's driver, in process (use the onnxopt package)";
  m.attr("__version__") = ONNXOPT_VERSION;
  m.def("run", &run, py::arg("args"), py::arg("capture") = true,
        "Run onnx-opt with ARGS; returns (exit code, stdout, stderr)");
}
