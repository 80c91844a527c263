"""The Kubernetes manifests, checked without a cluster: deploy/k8s/.

kubectl renders each kustomization (CI's is Debian 12's kubernetes-client, kubectl 1.20 with
kustomize v2.0.3; the files are written to render the same with kustomize v5), every rendered
object is validated offline against the Kubernetes OpenAPI schema (kubernetes-validate, which
ships the schemas), a policy written here holds each pod to what docker-compose.yml asks of its
containers, and the objects are checked against each other, against the contract, against
docker-compose.yml and across the two overlays.

The NetworkPolicies are evaluated here, pod by pod, into who may reach whom. checkov, the usual
scanner, then runs its Kubernetes checks over everything rendered; it lives in a venv of its own
(the Makefile says why). A check that does not apply to an object is skipped by the object
itself, in a checkov.io/skip annotation that gives the reason, and the test proves each such
skip hides a failure that is really there; nothing is skipped from here.

The KServe InferenceServices (deploy/k8s/kserve/) are a custom resource that no schema here
ships: tests/data/inferenceservice.schema.json writes down the fields KServe documents, the
predictor's pod spec is validated as a Kubernetes PodSpec, and the Deployment KServe makes of
it goes through the same policy, NetworkPolicy and checkov checks as the overlays' pods.
"""

from __future__ import annotations

import json
import re
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
APPS = ("flask", "django")
KUSTOMIZATIONS = {"flask": K8S / "overlays" / "flask", "django": K8S / "overlays" / "django"}
KUSTOMIZATIONS["load"] = K8S / "load"
KUSTOMIZATIONS["namespace"] = K8S / "namespace"
# The stack's own namespace (deploy/k8s/namespace), which every other object lives in.
NAMESPACE = "flask-vs-django-ml"
# The InferenceService of each app, and what their custom resource may hold.
KSERVE = {app: K8S / "kserve" / f"{app}.yaml" for app in APPS}
INFERENCE_SERVICE_SCHEMA = REPO / "tests" / "data" / "inferenceservice.schema.json"
# The Open Inference Protocol v2's REST paths (KServe's "v2" protocol) that both apps serve
# (issue 20). The InferenceServices' probes use them; once contract/openapi.json describes /v2,
# the probes must be there too.
OIP_V2_PATHS = {
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/{name}",
    "/v2/models/{name}/ready",
    "/v2/models/{name}/infer",
    "/v2/models/{name}/versions/{version}",
    "/v2/models/{name}/versions/{version}/ready",
    "/v2/models/{name}/versions/{version}/infer",
}
# A checkov skip annotation: the check's ID, "=", the reason (checkov splits the value on "=").
CHECKOV_SKIP = re.compile(r"(CKV2?_K8S_\d+)=([^=]{20,})")
# The oldest Kubernetes the manifests target: autoscaling/v2 and policy/v1 are GA there, and
# kubernetes-validate ships its schema.
KUBERNETES_VERSION = "1.31.0"
# The Secret the user creates (docs/kubernetes.md); nothing in the repository holds one.
EXTERNAL_SECRETS = {"django-secret-key": {"DJANGO_SECRET_KEY"}}
# The rules of the policy below that a checkov check stands for: an object that skips those
# checks in its annotations, with the reason there, is let off the rule.
CHECKOV_RULES = {"probes": {"CKV_K8S_8", "CKV_K8S_9"}}
# What each app's overlay may change in the base, beyond its name prefix and instance label.
APP_ENTRY_POINTS = {"flask": "flask_app.wsgi:app", "django": "django_app.wsgi:application"}
APP_ONLY_ENV = {"flask": set(), "django": {"DJANGO_SECRET_KEY"}}
APP_ONLY_SKIPS = {"flask": set(), "django": {"CKV_K8S_35"}}


def kubectl() -> str:
    """Return kubectl's path; fail, not skip, when it is missing (system-deps.sh installs it)."""
    path = shutil.which("kubectl")
    assert path, "kubectl is missing: bash scripts/system-deps.sh (Debian's kubernetes-client)"
    return path


def render(directory: Path) -> list[dict[str, Any]]:
    """Return the objects `kubectl kustomize` renders from a kustomization."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [obj for obj in yaml.safe_load_all(result.stdout) if obj]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Return every kustomization's objects, rendered once for the module."""
    return {name: render(directory) for name, directory in KUSTOMIZATIONS.items()}


@pytest.fixture(scope="module")
def kserve() -> dict[str, list[dict[str, Any]]]:
    """Return each app's KServe file: its InferenceService and NetworkPolicy."""
    return {
        app: [obj for obj in yaml.safe_load_all(path.read_text()) if obj]
        for app, path in KSERVE.items()
    }


def inference_service(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the one InferenceService among a KServe file's objects."""
    (isvc,) = [o for o in objects if o["kind"] == "InferenceService"]
    return isvc


def extension_fields() -> set[str]:
    """Return the predictor fields that are KServe's own, not the inline PodSpec's."""
    schema = json.loads(INFERENCE_SERVICE_SCHEMA.read_text())
    return set(schema["$defs"]["predictor"]["properties"])


def predictor_deployment(isvc: dict[str, Any]) -> dict[str, Any]:
    """Return the Deployment KServe's Standard mode makes of an InferenceService's predictor.

    Its name and pod label are KServe's (<name>-predictor, serving.kserve.io/inferenceservice),
    the predictor's labels and annotations go on its pods, the InferenceService's annotations on
    it, and every other predictor field is the pod's spec.
    """
    name = isvc["metadata"]["name"]
    predictor = isvc["spec"]["predictor"]
    pod_labels = {**predictor.get("labels", {}), "serving.kserve.io/inferenceservice": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": f"{name}-predictor",
            "namespace": isvc["metadata"]["namespace"],
            "labels": isvc["metadata"]["labels"],
            "annotations": isvc["metadata"].get("annotations", {}),
        },
        "spec": {
            "selector": {"matchLabels": {"serving.kserve.io/inferenceservice": name}},
            "strategy": predictor["deploymentStrategy"],
            "template": {
                "metadata": {"labels": pod_labels, "annotations": predictor.get("annotations", {})},
                "spec": {k: v for k, v in predictor.items() if k not in extension_fields()},
            },
        },
    }


@pytest.fixture(scope="module")
def workloads(
    rendered: dict[str, list[dict[str, Any]]], kserve: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """Return the rendered objects and, for each InferenceService, what KServe would run."""
    made = {
        f"kserve-{app}": [
            predictor_deployment(o) if o["kind"] == "InferenceService" else o for o in objects
        ]
        for app, objects in kserve.items()
    }
    return rendered | made


def every_object(rendered: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, dict]]:
    """Yield each rendered object with the kustomization it came from."""
    for name, objects in rendered.items():
        for obj in objects:
            yield name, obj


def ref(obj: dict[str, Any]) -> str:
    """Return an object's kind/name."""
    return f"{obj['kind']}/{obj['metadata']['name']}"


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Return the objects of one kind by name."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_specs(rendered: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, dict, dict]]:
    """Yield each workload's kind/name, pod template and its spec."""
    for _, obj in every_object(rendered):
        if obj["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            template = obj["spec"]["template"]
            yield ref(obj), template, template["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a pod's init containers and containers."""
    return spec.get("initContainers", []) + spec["containers"]


def checkov_skips(obj: dict[str, Any]) -> dict[str, str]:
    """Return the checks an object's checkov.io/skip annotations skip, with their reasons."""
    annotations = obj["metadata"].get("annotations", {})
    skips = {}
    for key, value in annotations.items():
        if key.startswith("checkov.io/skip"):
            match = CHECKOV_SKIP.fullmatch(value)
            assert match, f"{ref(obj)}: {key} is not CHECK_ID=reason: {value!r}"
            skips[match[1]] = match[2]
    return skips


def exempt(obj: dict[str, Any], rule: str) -> bool:
    """Return whether an object skips the checkov checks that stand for a rule of the policy."""
    return CHECKOV_RULES[rule] <= checkov_skips(obj).keys()


def compose() -> dict[str, Any]:
    """Return docker-compose.yml as written (its anchors resolved)."""
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def compose_default(value: str) -> str:
    """Return the default of a ${NAME:-default} reference, or the value itself."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    return match[1] if match else value


def env_value(container: dict[str, Any], name: str) -> str:
    """Return a container's literal environment value, $(VAR) references to literals expanded."""
    values = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    assert name in values, f"{container['name']} does not set {name} literally"
    return re.sub(r"\$\((\w+)\)", lambda m: values.get(m[1], m[0]), values[name])


def the(objects: list[dict[str, Any]], kind: str, component: str) -> dict[str, Any]:
    """Return the one object of a kind for a component (app, proxy, ...)."""
    found = [
        o
        for o in objects
        if o["kind"] == kind
        and o["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]
    assert len(found) == 1, f"{len(found)} {kind} objects for {component}"
    return found[0]


def container_named(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    """Return one container of a Deployment's pod template."""
    (found,) = [c for c in containers(deployment["spec"]["template"]["spec"]) if c["name"] == name]
    return found


# -- rendering and schema ----------------------------------------------------------------------


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_kustomization_renders(rendered: dict[str, list[dict[str, Any]]], name: str) -> None:
    """Render every kustomization into uniquely named objects."""
    objects = rendered[name]
    assert objects
    refs = [ref(o) for o in objects]
    assert len(refs) == len(set(refs)), refs


def test_overlays_hold_every_component(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Give each app the app, its proxy, Services, autoscaler and disruption budgets."""
    for app in APPS:
        kinds = sorted(ref(o).replace(f"/{app}-", "/") for o in rendered[app])
        assert kinds == [
            "ConfigMap/proxy",
            "Deployment/app",
            "Deployment/proxy",
            "HorizontalPodAutoscaler/app",
            "NetworkPolicy/app",
            "NetworkPolicy/proxy",
            "PodDisruptionBudget/app",
            "PodDisruptionBudget/proxy",
            "Service/app",
            "Service/proxy",
        ]


def test_objects_fit_the_kubernetes_schema(workloads: dict[str, list[dict[str, Any]]]) -> None:
    """Validate every object against Kubernetes' OpenAPI schema, rejecting unknown fields."""
    for name, obj in every_object(workloads):
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {ref(obj)}: {error.message} at {list(error.path)}")


def test_schema_validation_rejects_a_wrong_object() -> None:
    """Reject an unknown field, so the schema check above cannot pass by checking nothing."""
    wrong = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"prot": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSION, strict=True)


def test_no_secret_is_kept_in_the_manifests(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Keep every Secret out of the repository: the user creates the one Django reads."""
    assert not [ref(o) for _, o in every_object(rendered) if o["kind"] == "Secret"]
    text = "\n".join(p.read_text() for p in K8S.rglob("*.yaml"))
    assert "secretGenerator" not in text
    assert "DJANGO_SECRET_KEY=" not in text


# -- policy ------------------------------------------------------------------------------------


def test_pods_run_unprivileged(workloads: dict[str, list[dict[str, Any]]]) -> None:
    """Run every pod as the image's numeric user, with no host access and no API token."""
    for name, _, spec in pod_specs(workloads):
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True, name
        # The Dockerfile's USER, 10001:10001.
        assert (security["runAsUser"], security["runAsGroup"]) == (10001, 10001), name
        assert security["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert not {"hostNetwork", "hostPID", "hostIPC"} & spec.keys(), name
        assert not [v for v in spec.get("volumes", []) if "hostPath" in v], name


def test_containers_are_locked_down(workloads: dict[str, list[dict[str, Any]]]) -> None:
    """Drop every capability, forbid escalation, and keep the root filesystem read-only."""
    for name, _, spec in pod_specs(workloads):
        for container in containers(spec):
            where = f"{name} {container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert not security.get("privileged"), where
            # Where a read-only root needs writing: gunicorn's heartbeats, nginx's files.
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}, where


def test_containers_have_guaranteed_resources(workloads: dict[str, list[dict[str, Any]]]) -> None:
    """Give every container CPU and memory requests equal to its limits."""
    for name, _, spec in pod_specs(workloads):
        for container in containers(spec):
            resources = container["resources"]
            assert set(resources["limits"]) == {"cpu", "memory"}, name
            assert resources["requests"] == resources["limits"], name


def test_images_are_pinned_to_a_tag(workloads: dict[str, list[dict[str, Any]]]) -> None:
    """Name every image with an explicit tag other than latest."""
    for name, _, spec in pod_specs(workloads):
        for container in containers(spec):
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
            assert not image.endswith(":latest"), f"{name}: {image}"
            assert container["imagePullPolicy"] == "IfNotPresent", name


def test_serving_containers_have_every_probe(workloads: dict[str, list[dict[str, Any]]]) -> None:
    """Give every long-running container a startup, liveness and readiness probe."""
    exempted = []
    for _, obj in every_object(workloads):
        if obj["kind"] != "Deployment":
            continue
        if exempt(obj, "probes"):
            exempted.append(ref(obj))
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            missing = {"startupProbe", "livenessProbe", "readinessProbe"} - container.keys()
            assert not missing, f"{ref(obj)} {container['name']} lacks {sorted(missing)}"
    # Only the Locust worker, which listens on no port.
    assert exempted == ["Deployment/locust-worker"]


# -- consistency -------------------------------------------------------------------------------


def selected(
    objects: list[dict[str, Any]], selector: dict[str, str]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Return the Deployments (with their pod templates) whose pods a label selector picks."""
    return [
        (d, d["spec"]["template"])
        for d in of_kind(objects, "Deployment").values()
        if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_services_reach_the_ports_of_one_deployment(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    """Select one Deployment's pods with each Service, on ports its containers declare."""
    objects = rendered[name]
    for service in of_kind(objects, "Service").values():
        matches = selected(objects, service["spec"]["selector"])
        assert len(matches) == 1, f"{ref(service)} selects {len(matches)} Deployments"
        deployment, template = matches[0]
        assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
        ports = {
            p.get("name"): p["containerPort"]
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            assert target in ports or target in ports.values(), f"{ref(service)}: {target}"
            assert ports.get(target, target) == port["port"], f"{ref(service)}: {port}"


def test_probes_use_declared_ports_and_contract_paths(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Probe named ports the container declares, over paths the contract serves."""
    paths = json.loads((REPO / "contract" / "openapi.json").read_text())["paths"]
    for name, _, spec in pod_specs(rendered):
        for container in spec["containers"]:
            declared = {p["name"] for p in container.get("ports", [])}
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = container.get(kind)
                if probe is None:
                    continue
                action = probe.get("httpGet") or probe.get("tcpSocket")
                assert action["port"] in declared, f"{name} {kind}"
                if "httpGet" in probe:
                    assert probe["httpGet"]["path"] in paths, f"{name} {kind}"
    app = container_named(the(rendered["flask"], "Deployment", "app"), "app")
    assert app["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert app["readinessProbe"]["httpGet"]["path"] == "/health/ready"


def test_references_resolve(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Find every mounted volume, ConfigMap key and Secret key a pod refers to."""
    for name, objects in rendered.items():
        config_maps = of_kind(objects, "ConfigMap")
        for workload, _, spec in pod_specs({name: objects}):
            volumes = {v["name"] for v in spec.get("volumes", [])}
            for container in containers(spec):
                for mount in container.get("volumeMounts", []):
                    assert mount["name"] in volumes, f"{workload}: {mount['name']}"
                for variable in container.get("env", []):
                    source = variable.get("valueFrom", {})
                    if "configMapKeyRef" in source:
                        key = source["configMapKeyRef"]
                        assert key["key"] in config_maps[key["name"]]["data"], workload
                    if "secretKeyRef" in source:
                        key = source["secretKeyRef"]
                        assert key["key"] in EXTERNAL_SECRETS[key["name"]], workload


def test_the_user_is_told_how_to_create_the_secret() -> None:
    """Document the command that creates each Secret the manifests read."""
    text = (REPO / "docs" / "kubernetes.md").read_text()
    for secret, keys in EXTERNAL_SECRETS.items():
        for key in keys:
            create = f"kubectl --namespace {NAMESPACE} create secret generic {secret}"
            assert f"{create} --from-literal={key}=" in text


@pytest.mark.parametrize("app", APPS)
def test_autoscaler_and_budgets_aim_at_their_deployments(
    rendered: dict[str, list[dict[str, Any]]], app: str
) -> None:
    """Scale the app's Deployment on CPU, and cover each Deployment with a disruption budget."""
    objects = rendered[app]
    deployments = of_kind(objects, "Deployment")
    (autoscaler,) = of_kind(objects, "HorizontalPodAutoscaler").values()
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", f"{app}-app")
    scaled = deployments[target["name"]]
    # The autoscaler owns the count; a replicas field would reset it at every apply.
    assert "replicas" not in scaled["spec"]
    assert [m["resource"]["name"] for m in autoscaler["spec"]["metrics"]] == ["cpu"]
    assert autoscaler["spec"]["minReplicas"] >= 2
    budgets = of_kind(objects, "PodDisruptionBudget").values()
    covered = [
        [d["metadata"]["name"] for d, _ in selected(objects, b["spec"]["selector"]["matchLabels"])]
        for b in budgets
    ]
    assert sorted(covered) == sorted([[name] for name in deployments])


def test_images_are_the_ones_compose_builds(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Run the apps and proxies in compose's runtime image, and Locust in its bench image."""
    config = compose()
    runtime = compose_default(config["x-image"]["image"])
    bench = compose_default(config["x-bench-image"]["image"])
    for name, _, spec in pod_specs(rendered):
        for container in containers(spec):
            expected = bench if "locust" in name else runtime
            assert container["image"] == expected, f"{name} {container['name']}"


@pytest.mark.parametrize("app", APPS)
def test_apps_run_compose_commands(rendered: dict[str, list[dict[str, Any]]], app: str) -> None:
    """Start each app, and train its model, with the commands docker-compose.yml uses."""
    services = compose()["services"]
    deployment = the(rendered[app], "Deployment", "app")
    container = container_named(deployment, "app")
    assert container["command"] == services[app]["command"]
    assert container["command"][-1] == APP_ENTRY_POINTS[app]
    train = container_named(deployment, "train")
    command = list(train["command"])
    variant = command.index("--variant")
    assert command[variant + 1] == "$(MLAPI_MODEL_VARIANT)"
    del command[variant : variant + 2]
    assert command == services["train"]["command"]
    # The app loads the variant its init container trained, from the directory it wrote.
    out = Path(command[command.index("--out") + 1])
    model_dir = Path(env_value(container, "MLAPI_MODEL_DIR"))
    assert model_dir == out / env_value(train, "MLAPI_MODEL_VARIANT")
    assert env_value(container, "MLAPI_MODEL_VARIANT") == env_value(train, "MLAPI_MODEL_VARIANT")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts[str(out)]["readOnly"] is True
    assert str(out) in {m["mountPath"] for m in train["volumeMounts"]}


@pytest.mark.parametrize("app", APPS)
def test_proxy_runs_deploy_nginx_in_front_of_its_app(
    rendered: dict[str, list[dict[str, Any]]], app: str
) -> None:
    """Render deploy/nginx.conf for this overlay's app Service, as compose's proxies do."""
    objects = rendered[app]
    proxy = container_named(the(objects, "Deployment", "proxy"), "nginx")
    settings = the(objects, "ConfigMap", "proxy")["data"]
    sources = {e["name"]: settings[e["valueFrom"]["configMapKeyRef"]["key"]] for e in proxy["env"]}
    command = [re.sub(r"\$\((\w+)\)", lambda m: sources[m[1]], w) for w in proxy["command"]]
    expected = compose()["services"][f"{app}-proxy"]["command"]
    assert command[:5] == expected[:5]
    assert command[command.index("--listen") + 1] == expected[expected.index("--listen") + 1]
    service = of_kind(objects, "Service")[f"{app}-app"]
    upstream = command[command.index("--upstream") + 1]
    assert upstream == f"{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"
    # The graceful quit in preStop finds nginx by the prefix the command renders into.
    prefix = command[command.index("--prefix") + 1]
    quit_command = proxy["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert f"nginx -p {prefix} -c {prefix}/nginx.conf -s quit" in quit_command
    listen_port = int(command[command.index("--listen") + 1].rpartition(":")[2])
    assert [p["containerPort"] for p in proxy["ports"]] == [listen_port]


def test_apps_accept_the_hosts_they_are_reached_by(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Allow the proxies' Service names (nginx passes Host on) and the pod IP (probes, scrapes)."""
    proxies = {n for app in APPS for n in of_kind(rendered[app], "Service") if "proxy" in n}
    for app in APPS:
        container = container_named(the(rendered[app], "Deployment", "app"), "app")
        hosts = env_value(container, "MLAPI_ALLOWED_HOSTS").split(",")
        assert proxies <= set(hosts)
        assert "$(POD_IP)" in hosts
        names = [e["name"] for e in container["env"]]
        # Kubernetes expands $(POD_IP) only from a variable defined earlier in the list.
        assert names.index("POD_IP") < names.index("MLAPI_ALLOWED_HOSTS")


def test_shutdown_outlasts_gunicorn_graceful_timeout(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Give pods longer to stop than the preStop pause plus gunicorn's graceful timeout."""
    graceful = runpy.run_path(str(REPO / "gunicorn.conf.py"))["graceful_timeout"]
    for app in APPS:
        deployment = the(rendered[app], "Deployment", "app")
        container = container_named(deployment, "app")
        pause = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > (
            pause + graceful
        )


def test_app_pods_are_scraped_on_their_own_port(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Point Prometheus at /metrics on the port each app listens on."""
    for app in APPS:
        template = the(rendered[app], "Deployment", "app")["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        (container,) = template["spec"]["containers"]
        port = container["ports"][0]["containerPort"]
        bind = env_value(container, "GUNICORN_BIND")
        assert int(bind.rpartition(":")[2]) == port
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/path": "/metrics",
            "prometheus.io/port": str(port),
        }


def without_app(objects: list[dict[str, Any]], app: str) -> str:
    """Return an overlay's objects with its name and its app-specific parts taken out."""
    text = json.dumps(objects, sort_keys=True).replace(APP_ENTRY_POINTS[app], "ENTRY_POINT")
    # The instance label, wherever it is: on objects, in selectors, in NetworkPolicy peers.
    instance = '"app.kubernetes.io/instance": '
    text = text.replace(f'{instance}"{app}"', f'{instance}"APP"')
    # Object names and references only: in MLAPI_ALLOWED_HOSTS, a list after a comma, both
    # overlays name both proxies.
    data = json.loads(re.sub(rf"(?<!,)\b{app}-(app|proxy)\b", r"APP-\1", text))
    for obj in data:
        annotations = obj["metadata"].get("annotations", {})
        for key in [k for k in annotations if k.startswith("checkov.io/skip")]:
            if annotations[key].partition("=")[0] in APP_ONLY_SKIPS[app]:
                del annotations[key]
        for container in (
            obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            container["env"] = [
                e for e in container.get("env", []) if e["name"] not in APP_ONLY_ENV[app]
            ]
    return json.dumps(sorted(data, key=lambda o: (o["kind"], o["metadata"]["name"])), indent=1)


def test_overlays_differ_only_in_what_makes_each_app(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Render both overlays alike apart from names, entry point and Django's secret and skip."""
    assert without_app(rendered["flask"], "flask") == without_app(rendered["django"], "django")


def test_locust_workers_find_the_master_and_the_master_a_proxy(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Connect the workers to the master Service on 5557, and aim the load at an app's proxy."""
    objects = rendered["load"]
    services = compose()["services"]
    master = container_named(of_kind(objects, "Deployment")["locust-master"], "locust")
    worker = container_named(of_kind(objects, "Deployment")["locust-worker"], "locust")
    service = of_kind(objects, "Service")["locust-master"]
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]}["master"] == 5557
    command = worker["command"]
    assert command[command.index("--master-host") + 1] == service["metadata"]["name"]
    assert command[command.index("--master-port") + 1] == "5557"
    assert (
        command[: command.index("--master-host") + 1] == services["locust-worker"]["command"][:-1]
    )
    host = master["command"][master["command"].index("--host") + 1]
    proxy = of_kind(rendered["flask"], "Service")["flask-proxy"]
    assert host == f"http://{proxy['metadata']['name']}:{proxy['spec']['ports'][0]['port']}"
    assert master["command"][:5] == services["locust"]["command"][:5]


# -- namespace and network policies ------------------------------------------------------------


def test_everything_lives_in_the_stack_namespace(
    workloads: dict[str, list[dict[str, Any]]],
) -> None:
    """Put every object in the stack's namespace, which enforces the restricted pod standard."""
    (namespace,) = of_kind(workloads["namespace"], "Namespace").values()
    assert namespace["metadata"]["name"] == NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, obj in every_object(workloads):
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == NAMESPACE, f"{name}: {ref(obj)}"


def test_the_namespace_denies_all_traffic_by_default(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Deny every pod of the namespace all traffic, both ways, unless a policy allows it."""
    (deny,) = of_kind(rendered["namespace"], "NetworkPolicy").values()
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Return whether a label selector (matchLabels, matchExpressions) selects these labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        if operator == "In" and labels.get(key) not in expression["values"]:
            return False
        if operator == "NotIn" and key in labels and labels[key] in expression["values"]:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


class Pod:
    """A pod of a workload, as NetworkPolicies see it: its namespace, labels and ports."""

    def __init__(self, name: str, namespace: str, labels: dict[str, str], ports: set[int]):
        self.name, self.namespace, self.labels, self.ports = name, namespace, labels, ports


def pods_of(workloads: dict[str, list[dict[str, Any]]]) -> list[Pod]:
    """Return one Pod for each Deployment."""
    return [
        Pod(
            obj["metadata"]["name"],
            obj["metadata"]["namespace"],
            obj["spec"]["template"]["metadata"]["labels"],
            {
                p["containerPort"]
                for c in obj["spec"]["template"]["spec"]["containers"]
                for p in c.get("ports", [])
            },
        )
        for _, obj in every_object(workloads)
        if obj["kind"] == "Deployment"
    ]


def admits(policy: dict[str, Any], rule: dict[str, Any], peers: str, pod: Pod, port: int) -> bool:
    """Return whether one rule of a policy admits a pod (as its peer) on a TCP or UDP port."""
    ports = rule.get("ports")
    if ports and port not in {p["port"] for p in ports}:
        return False
    if not rule.get(peers):
        return True
    for peer in rule[peers]:
        assert "ipBlock" not in peer, f"{ref(policy)}: an ipBlock is not evaluated here"
        if "namespaceSelector" in peer:
            namespace_labels = {"kubernetes.io/metadata.name": pod.namespace}
            if not selects(peer["namespaceSelector"], namespace_labels):
                continue
        elif pod.namespace != policy["metadata"]["namespace"]:
            continue
        if selects(peer.get("podSelector", {}), pod.labels):
            return True
    return False


def allowed(policies: list[dict[str, Any]], source: Pod, target: Pod, port: int) -> bool:
    """Return whether the NetworkPolicies let a source pod open a connection to a target's port."""

    def side(pod: Pod, other: Pod, direction: str, peers: str) -> bool:
        isolating = [
            p
            for p in policies
            if p["metadata"]["namespace"] == pod.namespace
            and selects(p["spec"]["podSelector"], pod.labels)
            and direction in p["spec"]["policyTypes"]
        ]
        return not isolating or any(
            admits(p, rule, peers, other, port)
            for p in isolating
            for rule in p["spec"].get(direction.lower(), [])
        )

    return side(target, source, "Ingress", "from") and side(source, target, "Egress", "to")


def network_policies(workloads: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Return every NetworkPolicy; each names its policy types (the default depends on rules)."""
    policies = [o for _, o in every_object(workloads) if o["kind"] == "NetworkPolicy"]
    for policy in policies:
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"], ref(policy)
    return policies


def test_only_the_proxy_reaches_the_app_and_only_locust_the_proxy(
    workloads: dict[str, list[dict[str, Any]]],
) -> None:
    """Allow exactly these connections between the stack's pods, on the ports they serve."""
    policies = network_policies(workloads)
    pods = pods_of(workloads)
    connections = {
        (source.name, target.name, port)
        for source in pods
        for target in pods
        for port in target.ports
        if source is not target and allowed(policies, source, target, port)
    }
    assert connections == {
        ("flask-proxy", "flask-app", 8000),
        ("django-proxy", "django-app", 8000),
        ("locust-worker", "flask-proxy", 8080),
        ("locust-worker", "django-proxy", 8080),
        ("locust-worker", "locust-master", 5557),
        ("locust-worker", "flask-predictor", 8000),
        ("locust-worker", "django-predictor", 8000),
    }


def test_nothing_outside_the_namespace_reaches_a_pod(
    workloads: dict[str, list[dict[str, Any]]],
) -> None:
    """Refuse every pod of another namespace, even one that carries a proxy's or Locust's labels."""
    policies = network_policies(workloads)
    pods = pods_of(workloads)
    for impostor in pods:
        outside = Pod(impostor.name, "elsewhere", impostor.labels, impostor.ports)
        for target in pods:
            for port in target.ports:
                assert not allowed(policies, outside, target, port), (impostor.name, target.name)


def test_only_the_pods_that_resolve_names_reach_the_cluster_dns(
    workloads: dict[str, list[dict[str, Any]]],
) -> None:
    """Let nginx (its upstream) and the Locust workers (the master, the targets) ask kube-dns."""
    policies = network_policies(workloads)
    dns = Pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, {53})
    resolving = {pod.name for pod in pods_of(workloads) if allowed(policies, pod, dns, 53)}
    assert resolving == {"flask-proxy", "django-proxy", "locust-worker"}
    # Nothing else outside the namespace: not the API server, not the internet.
    elsewhere = Pod("anything", "default", {}, {53, 443})
    for pod in pods_of(workloads):
        assert not allowed(policies, pod, elsewhere, 443), pod.name
        assert not allowed(policies, pod, elsewhere, 53), pod.name


def test_every_pod_is_isolated_by_a_policy_applied_with_it(
    workloads: dict[str, list[dict[str, Any]]],
) -> None:
    """Select each pod with both policy types in its own files, not only the namespace's default."""
    for name, objects in workloads.items():
        own = [o for o in objects if o["kind"] == "NetworkPolicy"]
        for pod in pods_of({name: objects}):
            assert any(selects(p["spec"]["podSelector"], pod.labels) for p in own), pod.name


# -- checkov -----------------------------------------------------------------------------------


def checkov() -> str:
    """Return checkov's path, in the venv `make test` makes beside the one running the tests."""
    path = Path(sys.prefix) / "checkov" / "bin" / "checkov"
    assert path.is_file(), f"{path} is missing: make test installs it from requirements/checkov.txt"
    return str(path)


def scan(workloads: dict[str, list[dict[str, Any]]], directory: Path) -> dict[str, Any]:
    """Write the objects into a directory, one file per source, and run checkov's K8s checks."""
    directory.mkdir()
    for name, objects in workloads.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    result = subprocess.run(
        # --skip-download: no platform, no network; nothing is skipped from the command line.
        [
            checkov(),
            *("--directory", str(directory), "--framework", "kubernetes"),
            *("--skip-download", "--output", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report.get("check_type") == "kubernetes", result.stdout[-2000:] + result.stderr
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    # 0 when every check passed or was skipped, 1 when one failed.
    assert result.returncode in {0, 1}, result.stderr
    return report


def without_skips(workloads: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Return a copy of the objects with their checkov.io/skip annotations taken out."""
    copy = json.loads(json.dumps(workloads))
    for _, obj in every_object(copy):
        annotations = obj["metadata"].get("annotations", {})
        for key in [k for k in annotations if k.startswith("checkov.io/skip")]:
            del annotations[key]
    return copy


@pytest.fixture(scope="module")
def checkov_reports(
    workloads: dict[str, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return checkov's reports on the manifests as written, and with their skips taken out."""
    root = tmp_path_factory.mktemp("checkov")
    return scan(workloads, root / "as-written"), scan(without_skips(workloads), root / "no-skips")


def findings(report: dict[str, Any], outcome: str) -> set[tuple[str, str]]:
    """Return (check ID, resource) of a report's passed, failed or skipped checks."""
    return {(c["check_id"], c["resource"]) for c in report["results"][f"{outcome}_checks"]}


def test_checkov_passes(
    checkov_reports: tuple[dict[str, Any], dict[str, Any]],
    workloads: dict[str, list[dict[str, Any]]],
) -> None:
    """Fail no checkov check; skip only what an object skips itself, for the reason it gives."""
    report, _ = checkov_reports
    failed = report["results"]["failed_checks"]
    assert not failed, [(c["check_id"], c["resource"], c["check_name"]) for c in failed]
    reasons = {
        (check, f"{obj['kind']}.{obj['metadata']['namespace']}.{obj['metadata']['name']}"): reason
        for _, obj in every_object(workloads)
        for check, reason in checkov_skips(obj).items()
    }
    skipped = {
        (c["check_id"], c["resource"]): c["check_result"]["suppress_comment"]
        for c in report["results"]["skipped_checks"]
    }
    assert skipped == reasons
    # The checks the issue named run and pass: a namespace of its own and NetworkPolicies for
    # every pod (the Deployments', the InferenceServices' included).
    passed = findings(report, "passed")
    workload_count = len(pods_of(workloads))
    assert len({r for c, r in passed if c == "CKV_K8S_21"}) > workload_count
    assert len({r for c, r in passed if c == "CKV2_K8S_6"}) == workload_count


def test_every_checkov_skip_hides_a_real_failure(
    checkov_reports: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Fail exactly the skipped checks once the skips are taken out: none is kept for nothing."""
    report, bare = checkov_reports
    assert findings(bare, "failed") == findings(report, "skipped")
    assert not findings(bare, "skipped")


# -- KServe ------------------------------------------------------------------------------------


def test_inference_services_fit_the_schema(kserve: dict[str, list[dict[str, Any]]]) -> None:
    """Hold each InferenceService to KServe's documented fields and its pod spec to Kubernetes'."""
    schema = json.loads(INFERENCE_SERVICE_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for app, objects in kserve.items():
        assert sorted(o["kind"] for o in objects) == ["InferenceService", "NetworkPolicy"], app
        isvc = inference_service(objects)
        jsonschema.Draft202012Validator(schema).validate(isvc)
        # The rest of the predictor is a PodSpec: as the pod of the Deployment KServe makes.
        kubernetes_validate.validate(predictor_deployment(isvc), KUBERNETES_VERSION, strict=True)


def test_inference_service_schema_rejects_a_wrong_object(
    kserve: dict[str, list[dict[str, Any]]],
) -> None:
    """Reject an unknown field and a legacy deployment mode, so the schema checks something."""
    validator = jsonschema.Draft202012Validator(json.loads(INFERENCE_SERVICE_SCHEMA.read_text()))
    isvc = inference_service(kserve["flask"])
    for path, value in (
        (("spec", "predecitor"), {}),
        (("metadata", "annotations", "serving.kserve.io/deploymentMode"), "RawDeployment"),
        (("spec", "predictor", "scaleMetric"), "latency"),
    ):
        wrong = json.loads(json.dumps(isvc))
        parent = wrong
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
        assert not validator.is_valid(wrong), path


@pytest.mark.parametrize("app", APPS)
def test_inference_service_is_a_custom_predictor_speaking_v2(
    kserve: dict[str, list[dict[str, Any]]], app: str
) -> None:
    """Run the app's image as KServe's custom predictor container, declared to speak v2."""
    isvc = inference_service(kserve[app])
    predictor = isvc["spec"]["predictor"]
    frameworks = extension_fields() & {"sklearn", "xgboost", "model", "triton", "onnx"}
    assert not frameworks & predictor.keys(), "a custom predictor has no framework spec"
    # KServe finds the serving container by this name, and reads its protocol from PROTOCOL.
    (container,) = predictor["containers"]
    assert container["name"] == "kserve-container"
    assert env_value(container, "PROTOCOL") == "v2"
    # One port, the one gunicorn binds: KServe's Service sends its port 80 to the first.
    (port,) = container["ports"]
    assert port["containerPort"] == int(env_value(container, "GUNICORN_BIND").rpartition(":")[2])
    annotations = isvc["metadata"]["annotations"]
    assert annotations["serving.kserve.io/deploymentMode"] == "Standard"
    # The base's autoscaling: CPU utilization of the request, the same bounds.
    assert annotations["serving.kserve.io/autoscalerClass"] == "hpa"
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("cpu", 70)
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 6)
    # The app's image and command, as docker-compose.yml runs it.
    services = compose()["services"]
    assert container["image"] == compose_default(compose()["x-image"]["image"])
    assert container["command"] == services[app]["command"]


@pytest.mark.parametrize("app", APPS)
def test_inference_service_probes_the_v2_health_endpoints(
    kserve: dict[str, list[dict[str, Any]]], app: str
) -> None:
    """Probe the protocol's live and ready paths on the container's port."""
    contract = set(json.loads((REPO / "contract" / "openapi.json").read_text())["paths"])
    (container,) = inference_service(kserve[app])["spec"]["predictor"]["containers"]
    paths = {}
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container[kind]["httpGet"]
        assert probe["port"] == container["ports"][0]["containerPort"], kind
        assert probe["path"] in OIP_V2_PATHS, kind
        if any(path.startswith("/v2/") for path in contract):
            assert probe["path"] in contract, f"{kind}: {probe['path']} is not in openapi.json"
        paths[kind] = probe["path"]
    assert paths["livenessProbe"] == "/v2/health/live"
    assert paths["readinessProbe"] == "/v2/health/ready"


@pytest.mark.parametrize("app", APPS)
def test_inference_service_runs_the_overlay_app_pod(
    rendered: dict[str, list[dict[str, Any]]], kserve: dict[str, list[dict[str, Any]]], app: str
) -> None:
    """Run the pod of the app's overlay: same init container, security, resources and volumes."""
    isvc = inference_service(kserve[app])
    served = predictor_deployment(isvc)["spec"]["template"]["spec"]
    overlay = the(rendered[app], "Deployment", "app")["spec"]["template"]["spec"]
    for field in (
        "automountServiceAccountToken",
        "enableServiceLinks",
        "terminationGracePeriodSeconds",
        "securityContext",
        "initContainers",
        "volumes",
    ):
        assert served[field] == overlay[field], field
    (container,) = served["containers"]
    app_container = container_named(the(rendered[app], "Deployment", "app"), "app")
    for field in ("image", "command", "resources", "securityContext", "lifecycle", "volumeMounts"):
        assert container[field] == app_container[field], field
    # The environment too, but for the protocol and the Host names it is reached by.
    differs = {"PROTOCOL", "MLAPI_ALLOWED_HOSTS"}

    def env(c: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted((e for e in c["env"] if e["name"] not in differs), key=lambda e: e["name"])

    assert env(container) == env(app_container)
    # Kubernetes expands $(POD_IP) only from a variable defined earlier in the list.
    names = [e["name"] for e in container["env"]]
    assert names.index("POD_IP") < names.index("MLAPI_ALLOWED_HOSTS")
    hosts = env_value(container, "MLAPI_ALLOWED_HOSTS").split(",")
    service = f"{isvc['metadata']['name']}-predictor"
    assert {service, f"{service}.{NAMESPACE}.svc.cluster.local", "$(POD_IP)"} <= set(hosts)
    # The Prometheus annotations of the overlay's pods, on the predictor's pods.
    overlay_template = the(rendered[app], "Deployment", "app")["spec"]["template"]
    assert isvc["spec"]["predictor"]["annotations"] == overlay_template["metadata"]["annotations"]


def test_inference_services_differ_only_in_what_makes_each_app(
    kserve: dict[str, list[dict[str, Any]]],
) -> None:
    """Write both InferenceServices alike apart from names, entry point and Django's secret."""

    def neutral(app: str) -> str:
        objects = json.loads(json.dumps(kserve[app]))
        isvc = inference_service(objects)
        (container,) = isvc["spec"]["predictor"]["containers"]
        container["env"] = [e for e in container["env"] if e["name"] not in APP_ONLY_ENV[app]]
        annotations = isvc["metadata"]["annotations"]
        for key in [k for k in annotations if k.startswith("checkov.io/skip")]:
            if annotations[key].partition("=")[0] in APP_ONLY_SKIPS[app]:
                del annotations[key]
        text = json.dumps(objects, sort_keys=True).replace(APP_ENTRY_POINTS[app], "ENTRY_POINT")
        return re.sub(rf"\b{app}\b", "APP", text.replace(NAMESPACE, "NAMESPACE"))

    assert neutral("flask") == neutral("django")
