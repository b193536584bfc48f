"""A test-only exporter: fitted scikit-learn estimators and pipelines to
ai.onnx.ml graphs laid out as skl2onnx lays them out (skl2onnx cannot be
installed here). It covers what test/ml needs, not skl2onnx's whole surface:

  StandardScaler, MinMaxScaler, MaxAbsScaler   -> Scaler
  SimpleImputer                                -> Imputer
  Normalizer                                   -> Normalizer
  Binarizer                                    -> Binarizer
  OneHotEncoder (integer columns)              -> ArrayFeatureExtractor +
                                                  OneHotEncoder + Reshape,
                                                  Concat
  LogisticRegression                           -> LinearClassifier
                                                  (+ Normalizer L1 for OvR)
  LinearRegression, Ridge                      -> LinearRegressor
  SVC(probability=True/False), SVR             -> SVMClassifier, SVMRegressor
  DecisionTree*/RandomForest*/GradientBoosting -> TreeEnsembleClassifier/
                                                  TreeEnsembleRegressor

Classifiers end as skl2onnx ends them: the label through Cast(to=INT64) into
`output_label`, the probabilities through ZipMap into `output_probability`
(or a plain tensor with zipmap=False). Tree thresholds are adjusted as
skl2onnx adjusts them: scikit-learn compares float32(x) <= a double
threshold; the float threshold kept is the largest float that gives the same
decisions.
"""

import numpy as np
from onnx import TensorProto, TypeProto, helper, numpy_helper

from sklearn.ensemble import (GradientBoostingClassifier, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (Binarizer, MaxAbsScaler, MinMaxScaler, Normalizer,
                                   OneHotEncoder, StandardScaler)
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

ML = "ai.onnx.ml"


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, hint):
        self.n += 1
        return "%s_%d" % (hint, self.n)

    def node(self, op, ins, outs=None, domain="", **attrs):
        outs = outs or [self.name(op.lower())]
        self.nodes.append(helper.make_node(op, ins, outs, name=self.name(op),
                                           domain=domain, **attrs))
        return outs if len(outs) > 1 else outs[0]

    def const(self, hint, array):
        n = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n


def f32(x):
    return [float(v) for v in np.asarray(x, dtype=np.float64).ravel()]


def leq_threshold(t):
    """The float w with float32(x) <= t  <=>  float32(x) <= w."""
    f = np.float32(t)
    if np.float64(f) <= t:
        return float(f)
    return float(np.nextafter(f, np.float32(-np.inf)))


# ------------------------------------------------------------ transformers

def transformer(g, step, x):
    if isinstance(step, StandardScaler):
        off = step.mean_ if step.with_mean else np.zeros(step.n_features_in_)
        sc = 1 / step.scale_ if step.with_std else np.ones(step.n_features_in_)
        return g.node("Scaler", [x], domain=ML, offset=f32(off), scale=f32(sc))
    if isinstance(step, MinMaxScaler):
        return g.node("Scaler", [x], domain=ML, offset=f32(-step.min_ / step.scale_),
                      scale=f32(step.scale_))
    if isinstance(step, MaxAbsScaler):
        return g.node("Scaler", [x], domain=ML, offset=f32(np.zeros_like(step.scale_)),
                      scale=f32(1 / step.scale_))
    if isinstance(step, SimpleImputer):
        return g.node("Imputer", [x], domain=ML, imputed_value_floats=f32(step.statistics_),
                      replaced_value_float=float("nan"))
    if isinstance(step, Normalizer):
        return g.node("Normalizer", [x], domain=ML, norm=step.norm.upper())
    if isinstance(step, Binarizer):
        return g.node("Binarizer", [x], domain=ML, threshold=float(step.threshold))
    if isinstance(step, OneHotEncoder):
        parts = []
        for i, cats in enumerate(step.categories_):
            col = g.node("ArrayFeatureExtractor", [x, g.const("col", np.array([i], np.int64))],
                         domain=ML)
            hot = g.node("OneHotEncoder", [col], domain=ML,
                         cats_int64s=[int(c) for c in cats], zeros=1)
            parts.append(g.node("Reshape", [hot, g.const("shape", np.array([-1, len(cats)],
                                                                            np.int64))]))
        return g.node("Concat", parts, axis=1)
    raise TypeError("no converter for %s" % type(step).__name__)


# ------------------------------------------------------------ estimators

def classifier_outputs(g, label, probs, zipmap, classes):
    g.node("Cast", [label], ["output_label"], to=TensorProto.INT64)
    if zipmap:
        g.node("ZipMap", [probs], ["output_probability"], domain=ML,
               classlabels_int64s=[int(c) for c in classes])
    else:
        g.node("Identity", [probs], ["output_probability"])


def linear_classifier(g, m, x, zipmap):
    classes = m.classes_
    coef, icpt = m.coef_.ravel(), np.atleast_1d(m.intercept_)
    if len(classes) == 2:
        coef, icpt = np.concatenate([-coef, coef]), np.concatenate([-icpt, icpt])
    ovr = m.multi_class == "ovr" or (m.multi_class == "auto" and
                                     (len(classes) <= 2 or m.solver == "liblinear"))
    post = "LOGISTIC" if ovr else "SOFTMAX"
    attrs = dict(coefficients=f32(coef), intercepts=f32(icpt), post_transform=post,
                 multi_class=0, classlabels_ints=[int(c) for c in classes])
    if ovr and len(classes) > 2:
        label, raw = g.node("LinearClassifier", [x], [g.name("label"), g.name("scores")],
                            domain=ML, **attrs)
        probs = g.node("Normalizer", [raw], domain=ML, norm="L1")
    else:
        label, probs = g.node("LinearClassifier", [x], [g.name("label"), g.name("probs")],
                              domain=ML, **attrs)
    classifier_outputs(g, label, probs, zipmap, classes)


def linear_regressor(g, m, x):
    coef = np.atleast_2d(m.coef_)
    g.node("LinearRegressor", [x], ["variable"], domain=ML, coefficients=f32(coef),
           intercepts=f32(np.atleast_1d(m.intercept_)), targets=coef.shape[0])


def svm_kernel(m):
    gamma = m._gamma
    return dict(kernel_type=m.kernel.upper(),
                kernel_params=[float(gamma), float(m.coef0), float(m.degree)])


def svc(g, m, x, zipmap):
    classes = m.classes_
    attrs = dict(svm_kernel(m), classlabels_ints=[int(c) for c in classes],
                 vectors_per_class=[int(v) for v in m._n_support],
                 support_vectors=f32(m.support_vectors_),
                 coefficients=f32(m._dual_coef_), rho=f32(m._intercept_))
    if m.probability:
        attrs.update(prob_a=f32(m.probA_), prob_b=f32(m.probB_))
    label, probs = g.node("SVMClassifier", [x], [g.name("label"), g.name("probs")],
                          domain=ML, **attrs)
    classifier_outputs(g, label, probs, zipmap, classes)


def svr(g, m, x):
    g.node("SVMRegressor", [x], ["variable"], domain=ML, **svm_kernel(m),
           n_supports=int(m.support_vectors_.shape[0]),
           support_vectors=f32(m.support_vectors_), coefficients=f32(m._dual_coef_),
           rho=f32(m._intercept_))


def add_tree(attrs, tree, tree_id, weight, prefix, classifier, factor=1.0):
    t = tree.tree_
    for i in range(t.node_count):
        leaf = t.children_left[i] == -1
        attrs["nodes_treeids"].append(tree_id)
        attrs["nodes_nodeids"].append(i)
        attrs["nodes_featureids"].append(0 if leaf else int(t.feature[i]))
        attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
        attrs["nodes_values"].append(0.0 if leaf else leq_threshold(t.threshold[i]))
        attrs["nodes_truenodeids"].append(0 if leaf else int(t.children_left[i]))
        attrs["nodes_falsenodeids"].append(0 if leaf else int(t.children_right[i]))
        attrs["nodes_missing_value_tracks_true"].append(0)
        attrs["nodes_hitrates"].append(1.0)
        if not leaf:
            continue
        v = t.value[i].ravel().astype(np.float64)
        if classifier:
            v = v / v.sum() if v.sum() else v
        v = v * weight * factor
        if classifier and len(v) == 2:
            v = v[1:]  # binary: the positive class alone, as skl2onnx writes it
        for k, w in enumerate(v):
            attrs[prefix + "_treeids"].append(tree_id)
            attrs[prefix + "_nodeids"].append(i)
            attrs[prefix + "_ids"].append(k)
            attrs[prefix + "_weights"].append(float(np.float32(w)))


def tree_attrs(prefix):
    keys = ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes",
            "nodes_values", "nodes_truenodeids", "nodes_falsenodeids",
            "nodes_missing_value_tracks_true", "nodes_hitrates",
            prefix + "_treeids", prefix + "_nodeids", prefix + "_ids", prefix + "_weights"]
    return {k: [] for k in keys}


def tree_classifier(g, m, x, zipmap):
    attrs = tree_attrs("class")
    classes = m.classes_
    if isinstance(m, GradientBoostingClassifier):
        if len(classes) != 2:
            raise TypeError("only binary gradient boosting is exported")
        for i, est in enumerate(m.estimators_[:, 0]):
            add_tree(attrs, est, i, m.learning_rate, "class", False)
        init = m._raw_predict_init(np.zeros((1, m.n_features_in_)))[0, 0]
        attrs.update(post_transform="LOGISTIC", base_values=[float(init)])
    else:
        trees = m.estimators_ if hasattr(m, "estimators_") else [m]
        for i, est in enumerate(trees):
            add_tree(attrs, est, i, 1.0 / len(trees), "class", True)
        attrs["post_transform"] = "NONE"
    label, probs = g.node("TreeEnsembleClassifier", [x], [g.name("label"), g.name("probs")],
                          domain=ML, classlabels_int64s=[int(c) for c in classes], **attrs)
    classifier_outputs(g, label, probs, zipmap, classes)


def tree_regressor(g, m, x, aggregate):
    attrs = tree_attrs("target")
    trees = m.estimators_ if hasattr(m, "estimators_") else [m]
    weight = 1.0 / len(trees) if aggregate == "SUM" else 1.0
    for i, est in enumerate(trees):
        add_tree(attrs, est, i, weight, "target", False)
    g.node("TreeEnsembleRegressor", [x], ["variable"], domain=ML, n_targets=1,
           aggregate_function=aggregate, post_transform="NONE", **attrs)


# ------------------------------------------------------------ the model

def seq_of_maps():
    """seq(map(int64, tensor(float))), ZipMap's output type (ONNX 1.12's
    helper has no make_map_type_proto)."""
    t = TypeProto()
    m = t.sequence_type.elem_type.map_type
    m.key_type = TensorProto.INT64
    m.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return t


def to_onnx(model, n_features, zipmap=True, aggregate="SUM", opset=15, name="sklearn"):
    """The ONNX model of a fitted estimator or Pipeline taking float X [N, F]."""
    g = Graph()
    steps = [s for _, s in model.steps] if isinstance(model, Pipeline) else [model]
    x = "X"
    for s in steps[:-1]:
        x = transformer(g, s, x)
    last = steps[-1]
    is_classifier = hasattr(last, "classes_")
    if isinstance(last, LogisticRegression):
        linear_classifier(g, last, x, zipmap)
    elif isinstance(last, (LinearRegression, Ridge)):
        linear_regressor(g, last, x)
    elif isinstance(last, SVC):
        svc(g, last, x, zipmap)
    elif isinstance(last, SVR):
        svr(g, last, x)
    elif isinstance(last, (DecisionTreeClassifier, RandomForestClassifier,
                           GradientBoostingClassifier)):
        tree_classifier(g, last, x, zipmap)
    elif isinstance(last, (DecisionTreeRegressor, RandomForestRegressor)):
        tree_regressor(g, last, x, aggregate)
    else:
        x = transformer(g, last, x)
        g.node("Identity", [x], ["variable"])
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, n_features])]
    if is_classifier:
        prob = (seq_of_maps() if zipmap else
                helper.make_tensor_type_proto(TensorProto.FLOAT, [None, len(last.classes_)]))
        outputs = [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
                   helper.make_value_info("output_probability", prob)]
    else:
        outputs = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, None])]
    graph = helper.make_graph(g.nodes, name, inputs, outputs, initializer=g.inits)
    m = helper.make_model(graph, producer_name="test-sklearn-onnx",
                          opset_imports=[helper.make_opsetid("", opset),
                                         helper.make_opsetid(ML, 3 if opset >= 12 else 1)])
    m.ir_version = 8
    return m
