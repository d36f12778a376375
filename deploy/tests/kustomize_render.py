"""A small, offline renderer for exactly the kustomize features deploy/k8s uses.

Why it exists: the tests must render every overlay without network and with PyPI packages
only. The PyPI package `kustomize` (0.6.0) only *generates* kustomization files from Python,
it does not build them; `pykustomize` (0.1.4, Go kustomize bundled through cffi) builds them
correctly but requires Python >= 3.14 while the workspace supports 3.11. So this module
implements the subset we use, and refuses everything else loudly (`Unsupported`), so a
manifest that starts using another feature fails the tests instead of rendering wrongly.
When pykustomize is importable, deploy/tests/test_kustomize_render.py compares this renderer
with real kustomize on every overlay.

Supported (with kustomize's semantics, in kustomize's transformer order):
- `resources`: YAML files (multi-document) and directories holding a kustomization
- `components`: directories with `kind: Component` (their resources are added to, and their
  transformers run over, everything accumulated so far)
- `patches`: strategic-merge patches from `path` or inline `patch`, with no `target`; the
  patch names its target by apiVersion/kind/metadata.name (a file may hold several patches)
- `namespace`: set on every namespaced object; Namespace objects are renamed to it
- `labels` (pairs, includeSelectors: false, includeTemplates) and `commonLabels`
  (metadata, selectors and pod templates of the kinds below)
- `commonAnnotations`: metadata and pod templates
- `replicas`: by name, on Deployments/StatefulSets/ReplicaSets
- `images`: newName / newTag / digest on every (init)container of a pod template

Strategic merge: maps merge recursively, `null` deletes a key, lists with a known merge key
(containers, initContainers, volumes, env, volumeMounts by name; ports by containerPort,
imagePullSecrets by name) merge item by item; any other list is replaced. `$patch`
directives are not supported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "Node",
}
SUPPORTED_FIELDS = {
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "components",
    "patches",
    "namespace",
    "labels",
    "commonLabels",
    "commonAnnotations",
    "replicas",
    "images",
}
# Strategic-merge keys of the lists we patch (from the Kubernetes API's patchMergeKey).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
}


class Unsupported(ValueError):
    """The kustomization uses something this renderer does not implement."""


class RenderError(ValueError):
    """The kustomization is wrong (missing file, patch without target, ...)."""


def render(path: str | Path) -> list[Obj]:
    """Build the kustomization in directory `path`, like `kustomize build path`."""
    return _build(Path(path).resolve(), expected_kind="Kustomization")


def render_yaml(path: str | Path) -> str:
    return yaml.safe_dump_all(render(path), sort_keys=False)


def object_key(obj: Obj) -> tuple[str, str, str | None, str]:
    meta = obj.get("metadata") or {}
    return (
        obj.get("apiVersion", ""),
        obj.get("kind", ""),
        meta.get("namespace"),
        meta.get("name", ""),
    )


# ---- loading ---------------------------------------------------------------------------------


def _load_kustomization(directory: Path) -> Obj:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            data = yaml.safe_load(candidate.read_text()) or {}
            if not isinstance(data, dict):
                raise RenderError(f"{candidate}: not a mapping")
            return data
    raise RenderError(f"{directory}: no kustomization file")


def _load_documents(file: Path) -> list[Obj]:
    if not file.is_file():
        raise RenderError(f"{file}: no such file")
    docs = [d for d in yaml.safe_load_all(file.read_text()) if d is not None]
    for d in docs:
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            raise RenderError(f"{file}: every document needs apiVersion and kind")
        if d["kind"].endswith("List"):
            raise Unsupported(f"{file}: List objects are not supported")
    return docs


def _build(directory: Path, *, expected_kind: str) -> list[Obj]:
    k = _load_kustomization(directory)
    kind = k.get("kind", "Kustomization")
    if kind != expected_kind:
        raise RenderError(f"{directory}: expected kind {expected_kind}, found {kind}")
    unknown = set(k) - SUPPORTED_FIELDS
    if unknown:
        raise Unsupported(f"{directory}: unsupported kustomization fields {sorted(unknown)}")

    objects: list[Obj] = []
    for entry in k.get("resources") or []:
        target = (directory / entry).resolve()
        if target.is_dir():
            objects.extend(_build(target, expected_kind="Kustomization"))
        else:
            objects.extend(_load_documents(target))
    _check_unique(objects, directory)
    for entry in k.get("components") or []:
        objects = _apply_component((directory / entry).resolve(), objects)
    return _transform(k, directory, objects)


def _apply_component(directory: Path, objects: list[Obj]) -> list[Obj]:
    if not directory.is_dir():
        raise RenderError(f"{directory}: a component must be a directory")
    k = _load_kustomization(directory)
    if k.get("kind") != "Component":
        raise RenderError(f"{directory}: expected kind Component")
    unknown = set(k) - SUPPORTED_FIELDS
    if unknown:
        raise Unsupported(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    combined = list(objects)
    for entry in k.get("resources") or []:
        target = (directory / entry).resolve()
        if target.is_dir():
            combined.extend(_build(target, expected_kind="Kustomization"))
        else:
            combined.extend(_load_documents(target))
    _check_unique(combined, directory)
    for entry in k.get("components") or []:
        combined = _apply_component((directory / entry).resolve(), combined)
    return _transform(k, directory, combined)


def _check_unique(objects: list[Obj], where: Path) -> None:
    seen: set[tuple[str, str, str | None, str]] = set()
    for obj in objects:
        key = object_key(obj)
        if key in seen:
            raise RenderError(f"{where}: duplicate object {key}")
        seen.add(key)


# ---- transformers (kustomize order: patches, namespace, labels, annotations, replicas, images)


def _transform(k: Obj, directory: Path, objects: list[Obj]) -> list[Obj]:
    objects = copy.deepcopy(objects)
    for patch in _patches(k, directory):
        _apply_patch(objects, patch, directory)
    if k.get("namespace"):
        _set_namespace(objects, k["namespace"])
    for spec in k.get("labels") or []:
        _labels(objects, spec, directory)
    if k.get("commonLabels"):
        _labels(
            objects,
            {"pairs": k["commonLabels"], "includeSelectors": True, "includeTemplates": True},
            directory,
        )
    annotations = {key: str(v) for key, v in (k.get("commonAnnotations") or {}).items()}
    if annotations:
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("annotations", {}).update(annotations)
            template = _pod_template(obj)
            if template is not None:
                template.setdefault("metadata", {}).setdefault("annotations", {}).update(
                    annotations
                )
    for spec in k.get("replicas") or []:
        _replicas(objects, spec, directory)
    for spec in k.get("images") or []:
        _images(objects, spec, directory)
    return objects


def _patches(k: Obj, directory: Path) -> Iterator[Obj]:
    for entry in k.get("patches") or []:
        if set(entry) - {"path", "patch", "options"} or "target" in entry:
            raise Unsupported(f"{directory}: only untargeted strategic-merge patches: {entry}")
        if entry.get("options"):
            raise Unsupported(f"{directory}: patch options are not supported")
        if "path" in entry:
            docs = _load_documents((directory / entry["path"]).resolve())
        elif "patch" in entry:
            docs = [d for d in yaml.safe_load_all(entry["patch"]) if d is not None]
        else:
            raise RenderError(f"{directory}: a patch needs `path` or `patch`")
        for doc in docs:
            if isinstance(doc, list):
                raise Unsupported(f"{directory}: JSON 6902 patches are not supported")
            yield doc


def _apply_patch(objects: list[Obj], patch: Obj, directory: Path) -> None:
    meta = patch.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    if not name or "kind" not in patch:
        raise RenderError(f"{directory}: a patch must name its target (kind, metadata.name)")
    matches = [
        o
        for o in objects
        if o["kind"] == patch["kind"]
        and o.get("apiVersion") == patch.get("apiVersion", o.get("apiVersion"))
        and o["metadata"]["name"] == name
        and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]
    if len(matches) != 1:
        raise RenderError(
            f"{directory}: patch for {patch['kind']}/{name} matches {len(matches)} objects"
        )
    target = matches[0]
    merged = strategic_merge(target, patch)
    target.clear()
    target.update(merged)


def strategic_merge(original: Any, patch: Any, field: str | None = None) -> Any:
    """Kubernetes strategic merge patch, for maps and the merge-keyed lists in MERGE_KEYS."""
    if isinstance(patch, dict):
        if any(key.startswith("$") for key in patch):
            raise Unsupported(f"strategic-merge directives are not supported: {sorted(patch)}")
        if not isinstance(original, dict):
            return copy.deepcopy(patch)
        out = copy.deepcopy(original)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = strategic_merge(out[key], value, key)
            else:
                out[key] = strategic_merge(None, value, key)
        return out
    if isinstance(patch, list):
        merge_key = MERGE_KEYS.get(field or "")
        if merge_key is None or not isinstance(original, list):
            return copy.deepcopy(patch)
        # Like kustomize (kyaml): the patch's items first, in patch order (merged with the
        # original item of the same key), then the original items the patch does not name.
        merged: list[Any] = []
        named = set()
        for item in patch:
            if not isinstance(item, dict) or merge_key not in item:
                raise RenderError(f"list `{field}` item without its merge key `{merge_key}`")
            named.add(item[merge_key])
            existing = next(
                (
                    o
                    for o in original
                    if isinstance(o, dict) and o.get(merge_key) == item[merge_key]
                ),
                None,
            )
            merged.append(strategic_merge(existing, item, None))
        rest = [o for o in original if not (isinstance(o, dict) and o.get(merge_key) in named)]
        return merged + copy.deepcopy(rest)
    return copy.deepcopy(patch)


def _set_namespace(objects: list[Obj], namespace: str) -> None:
    for obj in objects:
        if obj["kind"] == "Namespace":
            # kustomize renames Namespace objects to the kustomization's namespace.
            obj.setdefault("metadata", {})["name"] = namespace
        elif obj["kind"] not in CLUSTER_SCOPED:
            obj.setdefault("metadata", {})["namespace"] = namespace


def _selector_paths(obj: Obj) -> list[Callable[[Obj], dict[str, Any] | None]]:
    kind = obj["kind"]
    if kind in WORKLOADS or kind == "PodDisruptionBudget":
        return [
            lambda o: (
                o.setdefault("spec", {}).setdefault("selector", {}).setdefault("matchLabels", {})
            )
        ]
    if kind == "Service":
        return [lambda o: o.setdefault("spec", {}).setdefault("selector", {})]
    if kind == "NetworkPolicy":
        raise Unsupported("commonLabels/includeSelectors on NetworkPolicy selectors")
    return []


def _labels(objects: list[Obj], spec: Obj, directory: Path) -> None:
    unknown = set(spec) - {"pairs", "includeSelectors", "includeTemplates"}
    if unknown:
        raise Unsupported(f"{directory}: labels fields {sorted(unknown)}")
    pairs = {k: str(v) for k, v in (spec.get("pairs") or {}).items()}
    with_selectors = bool(spec.get("includeSelectors", False))
    # kustomize: includeSelectors implies templates too.
    with_templates = with_selectors or bool(spec.get("includeTemplates", False))
    for obj in objects:
        obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if with_selectors:
            for get in _selector_paths(obj):
                selector = get(obj)
                if selector is not None:
                    selector.update(pairs)
        if with_templates:
            template = _pod_template(obj)
            if template is not None:
                template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _pod_template(obj: Obj) -> Obj | None:
    if obj["kind"] in WORKLOADS:
        template: Obj = obj.setdefault("spec", {}).setdefault("template", {})
        return template
    if obj["kind"] == "CronJob":
        job: Obj = obj["spec"]["jobTemplate"]["spec"].setdefault("template", {})
        return job
    return None


def _replicas(objects: list[Obj], spec: Obj, directory: Path) -> None:
    found = False
    for obj in objects:
        if obj["kind"] in SCALABLE and obj["metadata"]["name"] == spec["name"]:
            obj.setdefault("spec", {})["replicas"] = int(spec["count"])
            found = True
    if not found:
        raise RenderError(f"{directory}: replicas for unknown workload {spec['name']!r}")


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """`registry/name:tag@sha256:...` -> (name, tag, digest)."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        image, tag = image[:colon], image[colon + 1 :]
    return image, tag, digest


def _images(objects: list[Obj], spec: Obj, directory: Path) -> None:
    unknown = set(spec) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise Unsupported(f"{directory}: images fields {sorted(unknown)}")
    for obj in objects:
        template = _pod_template(obj) if obj["kind"] in WORKLOADS | {"CronJob"} else None
        if template is None:
            continue
        pod = template.get("spec") or {}
        for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            name, tag, digest = split_image(container["image"])
            if name != spec["name"]:
                continue
            name = spec.get("newName", name)
            if "digest" in spec:
                container["image"] = f"{name}@{spec['digest']}"
            elif "newTag" in spec:
                container["image"] = f"{name}:{spec['newTag']}"
            else:
                suffix = f":{tag}" if tag else ""
                suffix += f"@{digest}" if digest else ""
                container["image"] = name + suffix
