#!/usr/bin/python3
"""Classic ML graphs (ai.onnx.ml) against scikit-learn and ONNX Runtime.

    /usr/bin/python3 test/ml/run_ml_test.py ONNX_OPT WORK_DIR [--quick]

Every case fits a scikit-learn estimator or pipeline on seeded data, exports
it with test/ml/sklearn_onnx.py (skl2onnx's layout), and checks:
  1. `onnx-opt --evaluate` (the reference interpreter) equals scikit-learn:
     labels exactly (predict), probabilities (predict_proba, through ZipMap's
     sequence of maps) and regression values within 1e-5;
  2. ONNX Runtime (tensor outputs: the zipmap=False export) equals
     scikit-learn the same way, and the reference interpreter's tensors
     within 1e-5;
  3. `-O2 --verify` exits 0, and ONNX Runtime on the optimized model gives
     the original's labels and probabilities.
Also: the map ops (DictVectorizer against sklearn's, CastMap, LabelEncoder
against sklearn's LabelEncoder and ONNX Runtime, float-keyed LabelEncoder,
CategoryMapper and FeatureVectorizer against ONNX Runtime) on .pb inputs, and
broken ensembles and attribute sizes refused with exit 1 and a message. The 500-tree,
depth-12 forest is timed (load, verify, write) and its figures printed.
--quick (sanitizer builds) skips the 500-tree forest.
Prints `N passed, N failed`; exit 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402
import sklearn_onnx  # noqa: E402

from sklearn.datasets import (load_breast_cancer, load_diabetes, load_iris,  # noqa: E402
                              make_classification)
from sklearn.ensemble import (GradientBoostingClassifier, RandomForestClassifier,  # noqa: E402
                              RandomForestRegressor)
from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import (Binarizer, LabelEncoder, MaxAbsScaler,  # noqa: E402
                                   MinMaxScaler, Normalizer, OneHotEncoder, StandardScaler)
from sklearn.svm import SVC, SVR  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402

ORT_ML = os.path.join(HERE, "ort_ml.js")
TOL = 1e-5


def data(name, seed=0):
    """Float32 features (train, test) and targets, seeded."""
    if name == "iris":
        X, y = load_iris(return_X_y=True)
    elif name == "cancer":
        X, y = load_breast_cancer(return_X_y=True)
    elif name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    elif name == "synthetic":
        X, y = make_classification(n_samples=3000, n_features=20, n_informative=12,
                                   n_classes=3, random_state=seed)
    elif name == "categorical":
        rng = np.random.RandomState(seed)
        X = np.c_[rng.randint(0, 4, 300), rng.randint(0, 3, 300), rng.randint(0, 5, 300)]
        y = ((X[:, 0] + X[:, 2] + rng.randint(0, 2, 300)) > 4).astype(int)
    elif name == "missing":
        X, y = load_iris(return_X_y=True)
        rng = np.random.RandomState(seed)
        X = X.copy()
        X[rng.rand(*X.shape) < 0.1] = np.nan
    else:
        raise KeyError(name)
    X = X.astype(np.float32)
    rng = np.random.RandomState(seed)
    idx = rng.permutation(len(X))
    cut = len(X) * 2 // 3
    return X[idx[:cut]], X[idx[cut:]], y[idx[:cut]]


def cases(quick):
    """(name, dataset, estimator, export options)."""
    c = [
        ("scaler_logreg_multinomial", "iris",
         make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), {}),
        ("scaler_logreg_binary", "cancer",
         make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), {}),
        ("logreg_ovr", "iris", LogisticRegression(solver="liblinear"), {}),
        ("minmax_svc_rbf_proba", "iris",
         make_pipeline(MinMaxScaler(), SVC(probability=True, random_state=0)), {}),
        ("scaler_svc_linear_proba_binary", "cancer",
         make_pipeline(StandardScaler(), SVC(kernel="linear", probability=True,
                                             random_state=0)), {}),
        ("scaler_svc_poly", "iris",
         make_pipeline(StandardScaler(), SVC(kernel="poly", degree=3, gamma=0.5, coef0=1.0)),
         {}),
        ("svc_sigmoid_proba", "iris",
         make_pipeline(StandardScaler(), SVC(kernel="sigmoid", gamma=0.05,
                                             probability=True, random_state=0)), {}),
        ("scaler_svr_rbf", "diabetes", make_pipeline(StandardScaler(), SVR(C=50.0)), {}),
        ("svr_linear", "diabetes", SVR(kernel="linear", C=100.0), {}),
        ("random_forest", "iris",
         RandomForestClassifier(n_estimators=30, max_depth=5, random_state=0), {}),
        ("random_forest_binary", "cancer",
         RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0), {}),
        ("gradient_boosting_binary", "cancer",
         GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0), {}),
        ("forest_regressor_sum", "diabetes",
         RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0), {}),
        ("forest_regressor_average", "diabetes",
         RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0),
         {"aggregate": "AVERAGE"}),
        ("tree_regressor", "diabetes", DecisionTreeRegressor(max_depth=8, random_state=0),
         {}),
        ("imputer_forest", "missing",
         make_pipeline(SimpleImputer(), RandomForestClassifier(n_estimators=10, max_depth=4,
                                                               random_state=0)), {}),
        ("imputer_scaler_logreg", "missing",
         make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=1000)),
         {}),
        ("onehot_logreg", "categorical",
         make_pipeline(OneHotEncoder(), LogisticRegression(max_iter=1000)), {}),
        ("normalizer_linreg", "diabetes", make_pipeline(Normalizer(), LinearRegression()),
         {}),
        ("maxabs_ridge", "diabetes", make_pipeline(MaxAbsScaler(), Ridge()), {}),
        ("binarizer_logreg", "cancer",
         make_pipeline(StandardScaler(), Binarizer(threshold=0.2),
                       LogisticRegression(max_iter=1000)), {}),
    ]
    if not quick:
        c.append(("forest_500x12", "synthetic",
                  RandomForestClassifier(n_estimators=500, max_depth=12, random_state=0,
                                         n_jobs=2), {}))
    return c


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout + p.stderr


def read_outputs(d, n):
    """output_0.pb ... as numpy arrays; a sequence of maps as a 2-D array
    (one row per map, columns in key order) plus its keys."""
    outs = []
    for i in range(n):
        raw = open(os.path.join(d, "output_%d.pb" % i), "rb").read()
        t = onnx.TensorProto()
        try:
            t.ParseFromString(raw)
            if t.data_type:
                outs.append(numpy_helper.to_array(t))
                continue
        except Exception:
            pass
        s = onnx.SequenceProto()
        s.ParseFromString(raw)
        rows, keys = [], None
        for m in s.map_values:
            d2 = numpy_helper.to_dict(m)
            keys = list(d2.keys())
            rows.append([float(d2[k]) for k in keys])
        outs.append((np.array(rows, dtype=np.float32), keys))
    return outs


def ort(model, X, fetch=()):
    path = model + ".x.f32"
    np.ascontiguousarray(X, dtype=np.float32).tofile(path)
    rc, out = run(["node", ORT_ML, model, path, "%d,%d" % X.shape] + list(fetch))
    if rc != 0:
        raise RuntimeError("ONNX Runtime: " + out.strip())
    return {k: np.array(v["data"]).reshape(v["dims"]) for k, v in json.loads(out).items()}


def ort_feeds(model, feeds):
    """ONNX Runtime on named inputs: {name: numpy array}; tensor outputs."""
    path = model + ".feeds.json"
    kinds = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64"}
    with open(path, "w") as fh:
        json.dump({k: {"type": kinds.get(v.dtype, "string"), "dims": list(v.shape),
                       "data": [str(e) if v.dtype.kind in "OU" else
                                None if v.dtype.kind == "f" and np.isnan(e) else e.item()
                                for e in v.ravel()]}
                   for k, v in feeds.items()}, fh)
    rc, out = run(["node", ORT_ML, model, "--feeds", path])
    if rc != 0:
        raise RuntimeError("ONNX Runtime: " + out.strip())
    return {k: np.array(v["data"]).reshape(v["dims"]) for k, v in json.loads(out).items()}


def close(got, want, what):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return ["%s: shape %s, expected %s" % (what, got.shape, want.shape)]
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    err = float(np.abs(got - want).max()) if want.size else 0.0
    return [] if err <= TOL * scale else ["%s: max error %.3g (tolerance %.3g)" %
                                          (what, err, TOL * scale)]


def same_labels(got, want, what):
    got, want = np.asarray(got).ravel(), np.asarray(want).ravel()
    bad = int((got != want).sum()) if got.shape == want.shape else -1
    return [] if bad == 0 else ["%s: %s of %d labels differ" % (what, bad if bad >= 0 else
                                                                "shape; all", len(want))]


def count_nodes(path):
    return len(onnx.load(path).graph.node)


def check_case(rep, tool, work, name, dataset, est, opts, stats):
    Xtr, Xte, ytr = data(dataset)
    est.fit(Xtr, ytr)
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    is_clf = hasattr(est, "classes_")
    f = Xtr.shape[1]
    aggregate = opts.get("aggregate", "SUM")
    model = os.path.join(d, "model.onnx")
    tensors = os.path.join(d, "tensors.onnx")
    onnx.save(sklearn_onnx.to_onnx(est, f, zipmap=True, aggregate=aggregate), model)
    onnx.save(sklearn_onnx.to_onnx(est, f, zipmap=False, aggregate=aggregate), tensors)
    ind = os.path.join(d, "in")
    os.makedirs(ind, exist_ok=True)
    with open(os.path.join(ind, "input_0.pb"), "wb") as fh:
        fh.write(numpy_helper.from_array(Xte, "X").SerializeToString())
    Xd = Xte.astype(np.float64)
    if is_clf:
        want_label = est.predict(Xd)
        want_prob = est.predict_proba(Xd) if hasattr(est, "predict_proba") and \
            getattr(est[-1] if hasattr(est, "steps") else est, "probability", True) else None
    else:
        want_value = est.predict(Xd).reshape(-1, 1)

    # 1. The reference interpreter against scikit-learn.
    def reference():
        outd = os.path.join(d, "out")
        shutil.rmtree(outd, ignore_errors=True)
        t0 = time.time()
        rc, out = run([tool, model, "--evaluate", "--inputs", ind, "--outputs", outd])
        stats.setdefault(name, {})["evaluate_s"] = time.time() - t0
        if rc != 0:
            raise RuntimeError("--evaluate exit %d: %s" % (rc, out.strip()))
        outs = read_outputs(outd, 2 if is_clf else 1)
        problems = []
        if is_clf:
            problems += same_labels(outs[0], want_label, "labels")
            probs, keys = outs[1]
            if keys != [int(c) for c in est.classes_]:
                problems.append("ZipMap keys %s, expected %s" % (keys, list(est.classes_)))
            if want_prob is not None:
                problems += close(probs, want_prob, "probabilities")
        else:
            problems += close(outs[0], want_value, "values")
        if problems:
            raise AssertionError("; ".join(problems))
        return "%d rows equal scikit-learn's %s" % (
            len(Xte), "labels and probabilities" if is_clf and want_prob is not None
            else "labels" if is_clf else "predictions")
    rep.run("%s: reference interpreter vs scikit-learn" % name, reference)

    # 2. ONNX Runtime against scikit-learn and the reference interpreter.
    def runtime():
        got = ort(tensors, Xte)
        problems = []
        if is_clf:
            problems += same_labels(got["output_label"], want_label, "ORT labels")
            if want_prob is not None:
                problems += close(got["output_probability"], want_prob, "ORT probabilities")
            problems += same_labels(ort(model, Xte, ["output_label"])["output_label"],
                                    want_label, "ORT labels (ZipMap model)")
            outd = os.path.join(d, "out-tensors")
            shutil.rmtree(outd, ignore_errors=True)
            rc, out = run([tool, tensors, "--evaluate", "--inputs", ind, "--outputs", outd])
            if rc != 0:
                raise RuntimeError("--evaluate exit %d: %s" % (rc, out.strip()))
            ours = read_outputs(outd, 2)
            problems += close(ours[1], got["output_probability"],
                              "reference vs ORT scores")
        else:
            problems += close(got["variable"], want_value, "ORT values")
        if problems:
            raise AssertionError("; ".join(problems))
        return "ONNX Runtime agrees"
    rep.run("%s: ONNX Runtime" % name, runtime)

    # 3. -O2 --verify, and ORT on the optimized models.
    def optimized():
        shown = []
        for src in (model, tensors):
            dst = src.replace(".onnx", ".opt.onnx")
            t0 = time.time()
            rc, out = run([tool, src, "-O2", "--verify", "-o", dst])
            if src == model:
                stats[name]["O2_verify_s"] = time.time() - t0
                stats[name]["nodes"] = (count_nodes(src), count_nodes(dst))
            if rc != 0:
                raise RuntimeError("-O2 --verify exit %d: %s" % (rc, out.strip()))
            shown.append("%d -> %d nodes" % (count_nodes(src), count_nodes(dst)))
        got = ort(tensors.replace(".onnx", ".opt.onnx"), Xte)
        problems = []
        if is_clf:
            problems += same_labels(got["output_label"], want_label, "optimized ORT labels")
            if want_prob is not None:
                problems += close(got["output_probability"], want_prob,
                                  "optimized ORT probabilities")
        else:
            problems += close(got["variable"], want_value, "optimized ORT values")
        if problems:
            raise AssertionError("; ".join(problems))
        return "verified; " + ", ".join(shown)
    rep.run("%s: -O2 --verify" % name, optimized)


def map_input(path, keys, values, key_type):
    m = onnx.MapProto()
    m.key_type = key_type
    if key_type == TensorProto.STRING:
        m.string_keys.extend([k.encode() for k in keys])
    else:
        m.keys.extend(keys)
    m.values.elem_type = onnx.SequenceProto.TENSOR
    for v in values:
        m.values.tensor_values.append(
            helper.make_tensor("", TensorProto.STRING, [], [v.encode()])
            if isinstance(v, str) else numpy_helper.from_array(np.array(v)))
    with open(path, "wb") as fh:
        fh.write(m.SerializeToString())


def save_graph(d, nodes, inputs, outputs, ml_opset):
    """A one-off graph of opset 15 and ai.onnx.ml ML_OPSET as D/model.onnx."""
    os.makedirs(d, exist_ok=True)
    g = helper.make_graph(nodes, "g", inputs, outputs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15),
                                            helper.make_opsetid(sklearn_onnx.ML, ml_opset)])
    m.ir_version = 8
    path = os.path.join(d, "model.onnx")
    onnx.save(m, path)
    return path


def evaluate_graph(tool, d, nodes, inputs, outputs, input_files):
    """Writes a one-off ai.onnx.ml graph and --evaluates it on files."""
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    for i, write in enumerate(input_files):
        write(os.path.join(d, "in", "input_%d.pb" % i))
    path = save_graph(d, nodes, inputs, outputs, 2)
    outd = os.path.join(d, "out")
    shutil.rmtree(outd, ignore_errors=True)
    rc, out = run([tool, path, "--evaluate", "--inputs", os.path.join(d, "in"),
                   "--outputs", outd])
    if rc != 0:
        raise RuntimeError("--evaluate exit %d: %s" % (rc, out.strip()))
    return read_outputs(outd, len(outputs))


def map_type(key, value):
    t = onnx.TypeProto()
    t.map_type.key_type = key
    t.map_type.value_type.tensor_type.elem_type = value
    return t


def check_map_ops(rep, tool, work):
    ML = sklearn_onnx.ML

    def dict_vectorizer():
        sample = [{"a": 1.0, "c": 3.5}, {"b": 2.0, "d": -1.0}]
        dv = DictVectorizer(sparse=False).fit(sample)
        row = {"d": 4.0, "a": 2.5, "zz": 9.0}
        want = dv.transform([row])
        vocab = list(dv.feature_names_)
        outs = evaluate_graph(
            tool, os.path.join(work, "dictvectorizer"),
            [helper.make_node("DictVectorizer", ["m"], ["y"], domain=ML,
                              string_vocabulary=vocab)],
            [helper.make_value_info("m", map_type(TensorProto.STRING, TensorProto.FLOAT))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [lambda p: map_input(p, list(row), np.array(list(row.values()), np.float32),
                                 TensorProto.STRING)])
        problems = close(outs[0], want, "DictVectorizer")
        if problems:
            raise AssertionError("; ".join(problems))
        return "equals sklearn's DictVectorizer (unknown key dropped)"
    rep.run("map ops: DictVectorizer vs scikit-learn", dict_vectorizer)

    def cast_map():
        keys, vals = [3, 0, 1], ["2.5", "-1", "7"]
        outs = evaluate_graph(
            tool, os.path.join(work, "castmap"),
            [helper.make_node("CastMap", ["m"], ["dense"], domain=ML),
             helper.make_node("CastMap", ["m"], ["sparse"], domain=ML, map_form="SPARSE",
                              max_map=5)],
            [helper.make_value_info("m", map_type(TensorProto.INT64, TensorProto.STRING))],
            [helper.make_tensor_value_info("dense", TensorProto.FLOAT, None),
             helper.make_tensor_value_info("sparse", TensorProto.FLOAT, None)],
            [lambda p: map_input(p, keys, vals, TensorProto.INT64)])
        problems = close(outs[0], [[-1, 7, 2.5]], "CastMap DENSE") + \
            close(outs[1], [[-1, 7, 0, 2.5, 0]], "CastMap SPARSE")
        if problems:
            raise AssertionError("; ".join(problems))
        return "DENSE in key order, SPARSE at the keys"
    rep.run("map ops: CastMap", cast_map)

    def label_encoder():
        words = np.array(["pear", "apple", "fig", "apple", "kiwi"])
        le = LabelEncoder().fit(words[:4])
        x = np.array(["fig", "kiwi", "apple", "pear"])
        outs = evaluate_graph(
            tool, os.path.join(work, "labelencoder"),
            [helper.make_node("LabelEncoder", ["x"], ["y"], domain=ML,
                              keys_strings=list(le.classes_),
                              values_int64s=list(range(len(le.classes_))),
                              default_int64=-1),
             helper.make_node("CategoryMapper", ["y"], ["back"], domain=ML,
                              cats_strings=list(le.classes_),
                              cats_int64s=list(range(len(le.classes_))),
                              default_string="?")],
            [helper.make_tensor_value_info("x", TensorProto.STRING, [None])],
            [helper.make_tensor_value_info("y", TensorProto.INT64, None),
             helper.make_tensor_value_info("back", TensorProto.STRING, None)],
            [lambda p: open(p, "wb").write(
                numpy_helper.from_array(x.astype(object), "x").SerializeToString())])
        want = [le.transform([w])[0] if w in le.classes_ else -1 for w in x]
        back = [w if w in le.classes_ else "?" for w in x]
        got_back = [b.decode() if isinstance(b, bytes) else b for b in outs[1]]
        problems = same_labels(outs[0], want, "LabelEncoder") + \
            same_labels(np.array(got_back), np.array(back), "CategoryMapper")
        rt = ort_feeds(os.path.join(work, "labelencoder", "model.onnx"), {"x": x.astype(object)})
        problems += same_labels(rt["y"], want, "ORT LabelEncoder") + \
            same_labels(rt["back"], np.array(back), "ORT CategoryMapper")
        if problems:
            raise AssertionError("; ".join(problems))
        return "equals sklearn's LabelEncoder and ONNX Runtime; unknown -> default"
    rep.run("map ops: LabelEncoder and CategoryMapper", label_encoder)

    def float_label_encoder():
        x = np.array([0.1, 0.1000001, 0.25, -0.0, np.nan], np.float32)
        outs = evaluate_graph(
            tool, os.path.join(work, "labelencoder-floats"),
            [helper.make_node("LabelEncoder", ["x"], ["y"], domain=ML,
                              keys_floats=[0.1, 0.1000001, 0.0, float("nan")],
                              values_int64s=[1, 2, 3, 4], default_int64=-1)],
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])],
            [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
            [lambda p: open(p, "wb").write(numpy_helper.from_array(x).SerializeToString())])
        problems = same_labels(outs[0], [1, 2, -1, 3, -1], "LabelEncoder float keys")
        rt = ort_feeds(os.path.join(work, "labelencoder-floats", "model.onnx"), {"x": x})
        problems += same_labels(rt["y"], [1, 2, -1, 3, -1], "ORT LabelEncoder float keys")
        if problems:
            raise AssertionError("; ".join(problems))
        return "keys told apart to the last bit, -0 finds 0, NaN finds nothing (as ORT)"
    rep.run("map ops: LabelEncoder float keys", float_label_encoder)

    def feature_vectorizer():
        a = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
        b = np.array([[7], [8]], np.float32)
        outs = evaluate_graph(
            tool, os.path.join(work, "featurevectorizer"),
            [helper.make_node("FeatureVectorizer", ["a", "b"], ["y"], domain=ML,
                              inputdimensions=[2, 2])],
            [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3]),
             helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [lambda p: open(p, "wb").write(numpy_helper.from_array(a).SerializeToString()),
             lambda p: open(p, "wb").write(numpy_helper.from_array(b).SerializeToString())])
        problems = close(outs[0], [[1, 2, 7, 0], [4, 5, 8, 0]], "FeatureVectorizer")
        rt = ort_feeds(os.path.join(work, "featurevectorizer", "model.onnx"), {"a": a, "b": b})
        problems += close(rt["y"], [[1, 2, 7, 0], [4, 5, 8, 0]], "ORT FeatureVectorizer")
        if problems:
            raise AssertionError("; ".join(problems))
        return "cut to 2 columns, padded to 2, as ONNX Runtime"
    rep.run("map ops: FeatureVectorizer", feature_vectorizer)


def check_bad_ensembles(rep, tool, work):
    """Broken trees are a clear exit 1, never a hang or a crash."""
    base = dict(nodes_treeids=[0, 0, 0], nodes_nodeids=[0, 1, 2], nodes_featureids=[0, 0, 0],
                nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"], nodes_values=[0.5, 0, 0],
                nodes_truenodeids=[1, 0, 0], nodes_falsenodeids=[2, 0, 0],
                target_treeids=[0, 0], target_nodeids=[1, 2], target_ids=[0, 0],
                target_weights=[1.0, 2.0], n_targets=1)
    bad = {
        "cycle": dict(nodes_modes=["BRANCH_LEQ", "BRANCH_LEQ", "LEAF"],
                      nodes_truenodeids=[1, 0, 0], nodes_falsenodeids=[2, 2, 0]),
        "missing child": dict(nodes_truenodeids=[7, 0, 0]),
        "feature out of range": dict(nodes_featureids=[9, 0, 0]),
        "weight on no node": dict(target_nodeids=[1, 5]),
        "unknown mode": dict(nodes_modes=["BRANCH_ALMOST", "LEAF", "LEAF"]),
    }
    def refused(label, what, op, attrs):
        """One node of OP on X [N, 2], --evaluated: exit 1 naming the op."""
        classifier = "Classifier" in op
        path = save_graph(
            os.path.join(work, "bad-" + what.replace(" ", "-")),
            [helper.make_node(op, ["X"], ["y", "z"] if classifier else ["y"],
                              domain=sklearn_onnx.ML, **attrs)],
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
            [helper.make_tensor_value_info("y", TensorProto.INT64 if classifier
                                           else TensorProto.FLOAT, None)], 3)
        rc, out = run([tool, path, "--evaluate", "--verify-shape", "X=3x2"])
        rep.check("%s (%s): exit 1 with a message" % (label, what),
                  rc == 1 and op in out and "Assertion" not in out,
                  "exit %d: %s" % (rc, out.strip()[:300]))

    for what, change in bad.items():
        refused("bad ensemble", what, "TreeEnsembleRegressor", dict(base, **change))
    # Sizes from attributes that would overflow or exhaust memory if trusted.
    huge = 1 << 62
    other = {
        "SVMClassifier vectors_per_class": ("SVMClassifier", dict(
            vectors_per_class=[huge, huge], support_vectors=[1.0, 2.0],
            coefficients=[1.0, 1.0], rho=[0.0], classlabels_ints=[0, 1])),
        "SVMRegressor n_supports": ("SVMRegressor", dict(
            n_supports=huge, support_vectors=[1.0, 2.0], coefficients=[1.0], rho=[0.0])),
        "LinearRegressor targets": ("LinearRegressor", dict(
            targets=huge, coefficients=[1.0, 1.0], intercepts=[0.0])),
        "TreeEnsembleRegressor n_targets": ("TreeEnsembleRegressor", dict(
            base, n_targets=huge)),
        "FeatureVectorizer inputdimensions": ("FeatureVectorizer", dict(
            inputdimensions=[huge])),
        "TreeEnsembleClassifier one label": ("TreeEnsembleClassifier", dict(
            {k.replace("target", "class"): v for k, v in base.items() if k != "n_targets"},
            classlabels_int64s=[7])),
    }
    for what, (op, attrs) in other.items():
        refused("bad attributes", what, op, attrs)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    tool, work = os.path.abspath(args[0]), os.path.abspath(args[1])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rep = corpus.Report()
    stats = {}
    for name, dataset, est, opts in cases(quick):
        check_case(rep, tool, work, name, dataset, est, opts, stats)
    check_map_ops(rep, tool, work)
    check_bad_ensembles(rep, tool, work)
    if "forest_500x12" in stats:
        s = stats["forest_500x12"]
        print("forest_500x12: %s nodes; --evaluate %.2f s; -O2 --verify -o %.2f s "
              "(load, passes, verify, write)" % (s.get("nodes"), s.get("evaluate_s", 0),
                                                   s.get("O2_verify_s", 0)))
    with open(os.path.join(work, "stats.json"), "w") as fh:
        json.dump(stats, fh, indent=1)
    rep.finish()


if __name__ == "__main__":
    main()
