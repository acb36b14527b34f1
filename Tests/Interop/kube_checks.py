"""Static checks of Kubernetes manifests against the API, as far as deploy/
uses it (test_packaging.py); no cluster or kubeconform needed."""

from __future__ import annotations

import re

# The fields of each object (core/v1 and apps/v1, Kubernetes 1.33). A misspelt
# field is refused by the API server's strict field validation; here too.
# "field:Type" is an object, "field:[Type]" a list of them, a bare name a value.
API_FIELDS = {
    "Deployment": "apiVersion kind metadata:ObjectMeta spec:DeploymentSpec",
    "Service": "apiVersion kind metadata:ObjectMeta spec:ServiceSpec",
    "ConfigMap": "apiVersion kind metadata:ObjectMeta data binaryData immutable",
    "ObjectMeta": "name generateName namespace labels annotations ownerReferences finalizers",
    "DeploymentSpec": "replicas selector:LabelSelector template:PodTemplateSpec strategy minReadySeconds "
                      "revisionHistoryLimit paused progressDeadlineSeconds",
    "LabelSelector": "matchLabels matchExpressions",
    "PodTemplateSpec": "metadata:ObjectMeta spec:PodSpec",
    "PodSpec": "volumes:[Volume] initContainers:[Container] containers:[Container] ephemeralContainers "
               "restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy nodeSelector "
               "serviceAccountName serviceAccount automountServiceAccountToken nodeName hostNetwork hostPID "
               "hostIPC shareProcessNamespace securityContext:PodSecurityContext imagePullSecrets hostname "
               "subdomain affinity schedulerName tolerations hostAliases priorityClassName priority dnsConfig "
               "readinessGates runtimeClassName enableServiceLinks preemptionPolicy overhead "
               "topologySpreadConstraints setHostnameAsFQDN os hostUsers schedulingGates resourceClaims resources",
    "PodSecurityContext": "seLinuxOptions windowsOptions runAsUser runAsGroup runAsNonRoot supplementalGroups "
                          "supplementalGroupsPolicy fsGroup sysctls fsGroupChangePolicy seccompProfile "
                          "appArmorProfile seLinuxChangePolicy",
    "Container": "name image command args workingDir ports:[ContainerPort] envFrom env:[EnvVar] "
                 "resources:ResourceRequirements resizePolicy restartPolicy volumeMounts:[VolumeMount] "
                 "volumeDevices livenessProbe:Probe readinessProbe:Probe startupProbe:Probe lifecycle:Lifecycle "
                 "terminationMessagePath terminationMessagePolicy imagePullPolicy securityContext:SecurityContext "
                 "stdin stdinOnce tty",
    "ContainerPort": "name hostPort containerPort protocol hostIP",
    "EnvVar": "name value valueFrom:EnvVarSource",
    "EnvVarSource": "fieldRef:ObjectFieldSelector resourceFieldRef configMapKeyRef secretKeyRef",
    "ObjectFieldSelector": "apiVersion fieldPath",
    "ResourceRequirements": "limits requests claims",
    "VolumeMount": "name readOnly recursiveReadOnly mountPath subPath mountPropagation subPathExpr",
    "Probe": "exec:ExecAction httpGet:HTTPGetAction tcpSocket:TCPSocketAction grpc initialDelaySeconds "
             "timeoutSeconds periodSeconds successThreshold failureThreshold terminationGracePeriodSeconds",
    "Lifecycle": "postStart:LifecycleHandler preStop:LifecycleHandler stopSignal",
    "LifecycleHandler": "exec:ExecAction httpGet:HTTPGetAction tcpSocket:TCPSocketAction sleep",
    "ExecAction": "command",
    "HTTPGetAction": "path port host scheme httpHeaders",
    "TCPSocketAction": "port host",
    "SecurityContext": "capabilities:Capabilities privileged seLinuxOptions windowsOptions runAsUser runAsGroup "
                       "runAsNonRoot readOnlyRootFilesystem allowPrivilegeEscalation procMount seccompProfile "
                       "appArmorProfile",
    "Capabilities": "add drop",
    "Volume": "name configMap:ConfigMapVolumeSource emptyDir secret downwardAPI projected",
    "ConfigMapVolumeSource": "name items defaultMode optional",
    "ServiceSpec": "ports:[ServicePort] selector clusterIP clusterIPs type externalIPs sessionAffinity "
                   "loadBalancerIP loadBalancerSourceRanges externalName externalTrafficPolicy healthCheckNodePort "
                   "publishNotReadyAddresses sessionAffinityConfig ipFamilies ipFamilyPolicy "
                   "allocateLoadBalancerNodePorts loadBalancerClass internalTrafficPolicy trafficDistribution",
    "ServicePort": "name protocol appProtocol port targetPort nodePort",
}
API_VERSIONS = {"Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1"}
# Environment fields the downward API gives a container (fieldRef.fieldPath).
ENV_FIELD_PATHS = {"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                   "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                   "status.podIPs"}

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
QUANTITY_SCALE = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
                  "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def _parse_fields(spec: str) -> dict[str, tuple[str, bool] | None]:
    fields = {}
    for item in spec.split():
        name, _, child = item.partition(":")
        fields[name] = (child.strip("[]"), child.startswith("[")) if child else None
    return fields


API = {kind: _parse_fields(spec) for kind, spec in API_FIELDS.items()}


def unknown_fields(obj, type_name: str, path: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{path}: a {type_name} must be an object"]
    errors = []
    for key, value in obj.items():
        if key not in API[type_name]:
            errors.append(f"{path}.{key}: not a field of {type_name}")
            continue
        child = API[type_name][key]
        if child is None:
            continue
        child_type, is_list = child
        if is_list:
            if not isinstance(value, list):
                errors.append(f"{path}.{key}: must be a list")
                continue
            for i, item in enumerate(value):
                errors += unknown_fields(item, child_type, f"{path}.{key}[{i}]")
        else:
            errors += unknown_fields(value, child_type, f"{path}.{key}")
    return errors


def is_iana_svc_name(name) -> bool:
    """A port name (Kubernetes' IsValidPortName)."""
    return (isinstance(name, str) and 0 < len(name) <= 15 and re.fullmatch(r"[a-z0-9-]+", name) is not None
            and re.search(r"[a-z]", name) is not None and "--" not in name
            and not name.startswith("-") and not name.endswith("-"))


def is_port(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def quantity(value) -> float:
    m = QUANTITY.match(str(value))
    assert m, f"{value!r} is not a Kubernetes quantity"
    return float(m.group(1)) * QUANTITY_SCALE[m.group(2)]


def field_errors(file: str, doc: dict) -> list[str]:
    """Fields that are not fields of the API object they sit in, and a wrong apiVersion."""
    kind = doc.get("kind")
    if kind not in API_VERSIONS:
        return [f"{file}: kind {kind!r} is not one these checks know (add it to API_FIELDS)"]
    errors = []
    if doc.get("apiVersion") != API_VERSIONS[kind]:
        errors.append(f"{file}: {kind} needs apiVersion {API_VERSIONS[kind]}, not {doc.get('apiVersion')!r}")
    return errors + unknown_fields(doc, kind, f"{file}:{kind}")


class _Errors(list):
    def need(self, ok, message: str) -> None:
        if not ok:
            self.append(message)


def requirement_errors(file: str, doc: dict) -> list[str]:
    """What the API server would refuse: missing required fields, invalid names,
    values of the wrong type, dangling references inside the object."""
    errors = _Errors()
    kind = doc["kind"]
    where = f"{file}:{kind}"
    _check_metadata(errors, doc.get("metadata", {}), where, DNS1035_LABEL if kind == "Service" else DNS1123_SUBDOMAIN)
    if kind == "ConfigMap":
        for key, value in doc.get("data", {}).items():
            errors.need(re.fullmatch(r"[-._a-zA-Z0-9]+", key) and isinstance(value, str),
                        f"{where}: data key {key!r} or its value is not valid")
    elif kind == "Service":
        ports = doc["spec"].get("ports", [])
        errors.need(ports, f"{where}: spec.ports is required")
        for port in ports:
            errors.need(is_port(port.get("port")), f"{where}: port {port.get('port')!r} is not 1-65535")
            errors.need(len(ports) == 1 or is_iana_svc_name(port.get("name")), f"{where}: ports need names")
            target = port.get("targetPort", port.get("port"))
            errors.need(is_port(target) or is_iana_svc_name(target), f"{where}: targetPort {target!r}")
    elif kind == "Deployment":
        _check_deployment(errors, doc["spec"], where)
    return errors


def _check_metadata(errors: _Errors, meta: dict, where: str, name_rule: re.Pattern) -> None:
    errors.need(isinstance(meta.get("name"), str) and name_rule.match(meta["name"]),
                f"{where}: metadata.name {meta.get('name')!r} is missing or not a valid name")
    for key, value in (meta.get("labels") or {}).items():
        errors.need(isinstance(value, str) and LABEL_VALUE.match(value), f"{where}: label {key}={value!r}")
    for key, value in (meta.get("annotations") or {}).items():
        errors.need(isinstance(value, str), f"{where}: annotation {key} must be a string (quote it), not {value!r}")


def _check_deployment(errors: _Errors, spec: dict, where: str) -> None:
    selector = spec.get("selector", {}).get("matchLabels")
    template = spec.get("template", {})
    _check_metadata(errors, dict(template.get("metadata", {}), name="template"), f"{where}.template", DNS1123_LABEL)
    labels = template.get("metadata", {}).get("labels", {})
    errors.need(selector and all(labels.get(k) == v for k, v in selector.items()),
                f"{where}: spec.selector.matchLabels {selector} must be non-empty and match the template's labels {labels}")
    pod_spec = template.get("spec", {})
    errors.need(pod_spec.get("containers"), f"{where}: the pod needs containers")
    containers = pod_spec.get("initContainers", []) + pod_spec.get("containers", [])
    names = [c.get("name") for c in containers]
    errors.need(len(names) == len(set(names)), f"{where}: container names repeat: {names}")
    volumes = {v.get("name"): v for v in pod_spec.get("volumes", [])}
    for v in volumes.values():
        errors.need(DNS1123_LABEL.match(str(v.get("name"))) and len(v) == 2,
                    f"{where}: volume {v.get('name')!r} needs a valid name and exactly one source")
    for c in containers:
        _check_container(errors, c, f"{where}: container {c.get('name')!r}", volumes)


def _check_container(errors: _Errors, c: dict, where: str, volumes: dict) -> None:
    errors.need(isinstance(c.get("name"), str) and DNS1123_LABEL.match(c["name"]), f"{where}: name")
    errors.need(isinstance(c.get("image"), str) and c["image"], f"{where}: image is required")
    for field in ("command", "args"):
        errors.need(all(isinstance(a, str) for a in c.get(field, [])),
                    f"{where}: every {field} element must be a string (quote numbers)")
    port_names = [p.get("name") for p in c.get("ports", []) if "name" in p]
    errors.need(len(port_names) == len(set(port_names)), f"{where}: port names repeat")
    for p in c.get("ports", []):
        errors.need(is_port(p.get("containerPort")), f"{where}: containerPort {p.get('containerPort')!r}")
        errors.need("name" not in p or is_iana_svc_name(p["name"]), f"{where}: port name {p.get('name')!r}")
        errors.need(p.get("protocol", "TCP") in ("TCP", "UDP", "SCTP"), f"{where}: protocol {p.get('protocol')!r}")
    for e in c.get("env", []):
        name = e.get("name")
        errors.need(re.fullmatch(r"[-._a-zA-Z][-._a-zA-Z0-9]*", str(name)), f"{where}: env name {name!r}")
        errors.need(("value" in e) != ("valueFrom" in e), f"{where}: env {name} needs value or valueFrom")
        errors.need("value" not in e or isinstance(e["value"], str), f"{where}: env {name} value must be a string")
        field_ref = e.get("valueFrom", {}).get("fieldRef")
        errors.need(field_ref is None or field_ref.get("fieldPath") in ENV_FIELD_PATHS,
                    f"{where}: env {name} fieldPath {field_ref and field_ref.get('fieldPath')!r}")
    for m in c.get("volumeMounts", []):
        errors.need(m.get("name") in volumes and str(m.get("mountPath", "")).startswith("/"),
                    f"{where}: volumeMount {m.get('name')!r} needs a pod volume and an absolute mountPath")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        if probe_name in c:
            handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in c[probe_name]]
            errors.need(len(handlers) == 1, f"{where}: {probe_name} needs exactly one handler, has {handlers}")
    resources = c.get("resources", {})
    for use in ("requests", "limits"):
        for resource, value in resources.get(use, {}).items():
            errors.need(QUANTITY.match(str(value)), f"{where}: {use}.{resource} {value!r} is not a quantity")
    requests, limits = resources.get("requests", {}), resources.get("limits", {})
    for resource in set(requests) & set(limits):
        if QUANTITY.match(str(requests[resource])) and QUANTITY.match(str(limits[resource])):
            errors.need(quantity(requests[resource]) <= quantity(limits[resource]),
                        f"{where}: {resource} request above its limit")
    caps = c.get("securityContext", {}).get("capabilities", {})
    for cap in caps.get("add", []) + caps.get("drop", []):
        errors.need(re.fullmatch(r"[A-Z_]+", cap) and not cap.startswith("CAP_"),
                    f"{where}: capability {cap!r} (Kubernetes names them without CAP_)")
