"""The Kubernetes manifests, checked without a cluster: deploy/k8s/.

kubectl renders each kustomization (CI's is Debian 12's kubernetes-client, kubectl 1.20 with
kustomize v2.0.3; the files are written to render the same with kustomize v5), every rendered
object is validated offline against the Kubernetes OpenAPI schema (kubernetes-validate, which
ships the schemas), a policy written here holds each pod to what docker-compose.yml asks of its
containers, and the objects are checked against each other, against the contract, against
docker-compose.yml and across the two overlays.

Policy: checkov, the usual scanner, pins packaging below 24 where the dev lock holds 26, and
trivy's PyPI wrapper downloads its binary while it builds; so the rules that matter here are
asserted directly. Where a rule does not apply to an object, POLICY_EXCEPTIONS says why.
"""

from __future__ import annotations

import json
import re
import runpy
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
APPS = ("flask", "django")
KUSTOMIZATIONS = {"flask": K8S / "overlays" / "flask", "django": K8S / "overlays" / "django"}
KUSTOMIZATIONS["load"] = K8S / "load"
# The oldest Kubernetes the manifests target: autoscaling/v2 and policy/v1 are GA there, and
# kubernetes-validate ships its schema.
KUBERNETES_VERSION = "1.31.0"
# The Secret the user creates (docs/kubernetes.md); nothing in the repository holds one.
EXTERNAL_SECRETS = {"django-secret-key": {"DJANGO_SECRET_KEY"}}
# (kind/name, rule): why the rule does not apply there.
POLICY_EXCEPTIONS = {
    ("Deployment/locust-worker", "probes"): (
        "a Locust worker listens on no port; it connects out to the master"
    ),
}
# What each app's overlay may change in the base, beyond its name prefix and instance label.
APP_ENTRY_POINTS = {"flask": "flask_app.wsgi:app", "django": "django_app.wsgi:application"}
APP_ONLY_ENV = {"flask": set(), "django": {"DJANGO_SECRET_KEY"}}


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


def exempt(name: str, rule: str) -> bool:
    """Return whether POLICY_EXCEPTIONS lets an object off a rule."""
    return (name, rule) in POLICY_EXCEPTIONS


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
            "PodDisruptionBudget/app",
            "PodDisruptionBudget/proxy",
            "Service/app",
            "Service/proxy",
        ]


def test_objects_fit_the_kubernetes_schema(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Validate every object against Kubernetes' OpenAPI schema, rejecting unknown fields."""
    for name, obj in every_object(rendered):
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


def test_pods_run_unprivileged(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Run every pod as the image's numeric user, with no host access and no API token."""
    for name, _, spec in pod_specs(rendered):
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True, name
        # The Dockerfile's USER, 10001:10001.
        assert (security["runAsUser"], security["runAsGroup"]) == (10001, 10001), name
        assert security["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert not {"hostNetwork", "hostPID", "hostIPC"} & spec.keys(), name
        assert not [v for v in spec.get("volumes", []) if "hostPath" in v], name


def test_containers_are_locked_down(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Drop every capability, forbid escalation, and keep the root filesystem read-only."""
    for name, _, spec in pod_specs(rendered):
        for container in containers(spec):
            where = f"{name} {container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert not security.get("privileged"), where
            # Where a read-only root needs writing: gunicorn's heartbeats, nginx's files.
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}, where


def test_containers_have_guaranteed_resources(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Give every container CPU and memory requests equal to its limits."""
    for name, _, spec in pod_specs(rendered):
        for container in containers(spec):
            resources = container["resources"]
            assert set(resources["limits"]) == {"cpu", "memory"}, name
            assert resources["requests"] == resources["limits"], name


def test_images_are_pinned_to_a_tag(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Name every image with an explicit tag other than latest."""
    for name, _, spec in pod_specs(rendered):
        for container in containers(spec):
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
            assert not image.endswith(":latest"), f"{name}: {image}"
            assert container["imagePullPolicy"] == "IfNotPresent", name


def test_serving_containers_have_every_probe(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Give every long-running container a startup, liveness and readiness probe."""
    for name, _, spec in pod_specs(rendered):
        if exempt(name, "probes"):
            continue
        for container in spec["containers"]:
            missing = {"startupProbe", "livenessProbe", "readinessProbe"} - container.keys()
            assert not missing, f"{name} {container['name']} lacks {sorted(missing)}"


def test_policy_exceptions_name_real_objects(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Keep POLICY_EXCEPTIONS to objects that exist."""
    names = {ref(o) for _, o in every_object(rendered)}
    assert {name for name, _ in POLICY_EXCEPTIONS} <= names


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
            assert f"kubectl create secret generic {secret} --from-literal={key}=" in text


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
    # Object names and references only: in MLAPI_ALLOWED_HOSTS, a list after a comma, both
    # overlays name both proxies.
    data = json.loads(re.sub(rf"(?<!,)\b{app}-(app|proxy)\b", r"APP-\1", text))
    for obj in data:
        obj["metadata"]["labels"]["app.kubernetes.io/instance"] = "APP"
        for labels in _label_maps(obj):
            labels["app.kubernetes.io/instance"] = "APP"
        for container in (
            obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            container["env"] = [
                e for e in container.get("env", []) if e["name"] not in APP_ONLY_ENV[app]
            ]
    return json.dumps(sorted(data, key=lambda o: (o["kind"], o["metadata"]["name"])), indent=1)


def _label_maps(obj: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Yield the selector and pod-template label maps of an object."""
    spec = obj.get("spec", {})
    selector = spec.get("selector", {})
    if "matchLabels" in selector:
        yield selector["matchLabels"]
    elif selector:
        yield selector
    if "template" in spec:
        yield spec["template"]["metadata"]["labels"]


def test_overlays_differ_only_in_what_makes_each_app(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Render both overlays alike apart from names, entry point and Django's secret."""
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
