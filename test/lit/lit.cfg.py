# lit configuration for onnx-opt: text IR in, FileCheck on the output.
import os
import lit.formats

config.name = "onnx-opt"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".onnxtxt", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.onnxopt_obj_root, "test", "lit")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in", "Inputs"]
config.substitutions.append(("%onnx-opt", config.onnxopt_bin))
config.substitutions.append(("%FileCheck", config.filecheck))
config.substitutions.append(("%not", config.not_bin))
config.environment["PATH"] = os.path.dirname(config.filecheck) + os.pathsep + config.environment.get("PATH", "")
config.substitutions.append(("%split-file", os.path.join(os.path.dirname(config.filecheck), "split-file")))
