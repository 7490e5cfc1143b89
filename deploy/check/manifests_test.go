package check

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var kallaServices = []string{"planner", "stager", "executor", "reaper"}

// TestKustomizeBuilds builds the base and every overlay and decodes every
// object strictly.
func TestKustomizeBuilds(t *testing.T) {
	dirs := []string{"base"}
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "deploy", "k8s", "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, "overlays/"+e.Name())
		}
	}
	if !contains(dirs, "overlays/dev") || !contains(dirs, "overlays/prod") {
		t.Fatalf("overlays: %v, want dev and prod", dirs)
	}
	for _, d := range dirs {
		t.Run(d, func(t *testing.T) {
			ov := loadOverlay(t, d)
			t.Logf("%d objects", len(ov.objects))
		})
	}
}

func TestManifests(t *testing.T) {
	for _, name := range []string{"base", "overlays/dev", "overlays/prod"} {
		ov := loadOverlay(t, name)
		t.Run(name, func(t *testing.T) {
			t.Run("pods", func(t *testing.T) { checkPods(t, ov) })
			t.Run("env", func(t *testing.T) { checkEnv(t, ov) })
			t.Run("secrets", func(t *testing.T) { checkSecrets(t, ov) })
			t.Run("keda", func(t *testing.T) { checkKEDA(t, ov) })
			t.Run("topology", func(t *testing.T) { checkTopology(t, ov) })
			if name == "overlays/prod" {
				t.Run("prod", func(t *testing.T) { checkProd(t, ov) })
			}
			if name == "overlays/dev" {
				t.Run("dev", func(t *testing.T) { checkDev(t, ov) })
			}
		})
	}
}

// checkPods: probes on declared ports, resources, securityContext, tags.
func checkPods(t *testing.T, ov *overlay) {
	for _, w := range ov.workloads() {
		spec := w.pod.Spec
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			where := w.kind + "/" + w.name + " container " + c.Name
			isInit := false
			for _, ic := range spec.InitContainers {
				isInit = isInit || ic.Name == c.Name
			}
			if !isInit {
				if c.ReadinessProbe == nil || c.LivenessProbe == nil {
					t.Errorf("%s: needs readiness and liveness probes", where)
				}
				for kind, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
					if p == nil {
						continue
					}
					var port *intstr.IntOrString
					switch {
					case p.HTTPGet != nil:
						port = &p.HTTPGet.Port
					case p.TCPSocket != nil:
						port = &p.TCPSocket.Port
					case p.GRPC != nil:
						port = &intstr.IntOrString{IntVal: p.GRPC.Port}
					}
					if port != nil && !declaresPort(c, *port) {
						t.Errorf("%s: %s probe port %s is not a declared container port", where, kind, port.String())
					}
				}
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s: needs cpu and memory requests and a memory limit", where)
			}
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s: no securityContext", where)
				continue
			}
			nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot)
			if !nonRoot {
				t.Errorf("%s: runAsNonRoot is not true", where)
			}
			if sc.RunAsUser != nil && *sc.RunAsUser == 0 || spec.SecurityContext != nil && spec.SecurityContext.RunAsUser != nil && *spec.SecurityContext.RunAsUser == 0 {
				t.Errorf("%s: runs as uid 0", where)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: allowPrivilegeEscalation must be false", where)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: readOnlyRootFilesystem must be true", where)
			}
			if sc.Capabilities == nil || !containsCap(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s: capabilities must drop ALL", where)
			}
			if sc.Privileged != nil && *sc.Privileged {
				t.Errorf("%s: privileged", where)
			}
			if !isInit && contains(kallaServices, w.name) && !mounts(c, "/tmp") {
				t.Errorf("%s: read-only root needs a writable /tmp (emptyDir)", where)
			}
			checkImageRef(t, where, c.Image)
			for _, e := range c.Env {
				if e.ValueFrom == nil && looksSecret(e.Name) {
					t.Errorf("%s: %s is set inline; take it from a Secret (secretKeyRef)", where, e.Name)
				}
			}
		}
	}
}

func declaresPort(c corev1.Container, p intstr.IntOrString) bool {
	for _, cp := range c.Ports {
		if p.Type == intstr.String && cp.Name == p.StrVal || p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
			return true
		}
	}
	return false
}

func mounts(c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

func containsCap(list []corev1.Capability, c corev1.Capability) bool {
	for _, v := range list {
		if v == c {
			return true
		}
	}
	return false
}

func looksSecret(name string) bool {
	for _, s := range []string{"PASSWORD", "SECRET", "TOKEN", "DATABASE_URL", "ACCESS_KEY"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// checkImageRef: every image has an explicit tag that is not latest.
func checkImageRef(t *testing.T, where, image string) {
	t.Helper()
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		return // pinned by digest
	}
	slash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")
	if colon <= slash {
		t.Errorf("%s: image %q has no tag", where, image)
		return
	}
	if ref[colon+1:] == "latest" {
		t.Errorf("%s: image %q uses :latest", where, image)
	}
}

// containerEnv resolves what a container's environment will hold: explicit
// env plus the keys of envFrom ConfigMaps and Secrets found in the build.
// Secrets of secretKeyRef need not be in the build (prod keeps them out).
func containerEnv(t *testing.T, ov *overlay, where string, c corev1.Container) map[string]bool {
	t.Helper()
	env := map[string]bool{}
	for _, e := range c.Env {
		env[e.Name] = true
	}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := ov.find("ConfigMap", ef.ConfigMapRef.Name)
			if cm == nil {
				t.Errorf("%s: envFrom ConfigMap %s is not in the build", where, ef.ConfigMapRef.Name)
				continue
			}
			for k, v := range cm.ConfigMap.Data {
				env[ef.Prefix+k] = true
				if looksSecret(k) {
					t.Errorf("%s: ConfigMap %s holds %s=%q; secrets belong in a Secret", where, cm.Name, k, v)
				}
			}
		case ef.SecretRef != nil:
			s := ov.find("Secret", ef.SecretRef.Name)
			if s == nil {
				t.Errorf("%s: envFrom Secret %s cannot be resolved in %s; use secretKeyRef per variable", where, ef.SecretRef.Name, ov.name)
				continue
			}
			for k := range s.Secret.Data {
				env[ef.Prefix+k] = true
			}
			for k := range s.Secret.StringData {
				env[ef.Prefix+k] = true
			}
		}
	}
	return env
}

// checkEnv: every variable each service reads at start is set for it.
func checkEnv(t *testing.T, ov *overlay) {
	for _, svc := range kallaServices {
		w := ov.workload(svc)
		if w == nil {
			t.Errorf("no workload %s", svc)
			continue
		}
		c := findContainer(w.pod.Spec.Containers, svc)
		if c == nil {
			t.Errorf("%s: no container named %s", svc, svc)
			continue
		}
		env := containerEnv(t, ov, svc, *c)
		for _, v := range envReads(t, svc) {
			if !env[v] && optionalEnv[v] == "" {
				t.Errorf("%s reads %s at start, but its manifest does not set it", svc, v)
			}
		}
	}
	if w := ov.workload("executor"); w != nil {
		if c := findContainer(w.pod.Spec.Containers, "executor"); c != nil {
			env := containerEnv(t, ov, "executor", *c)
			for _, v := range []string{"KALLA_ENGINE", "KALLA_BALLISTA_SCHEDULER"} {
				if !env[v] {
					t.Errorf("executor: %s must be in its manifest (engine switch by config)", v)
				}
			}
		}
	}
	for _, name := range []string{"ballista-scheduler", "ballista-executor"} {
		w := ov.workload(name)
		if w == nil {
			t.Errorf("no workload %s", name)
			continue
		}
		for _, c := range w.pod.Spec.Containers {
			env := containerEnv(t, ov, name, c)
			for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ALLOW_HTTP"} {
				if !env[v] {
					t.Errorf("%s: %s is not set", name, v)
				}
			}
		}
	}
}

func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// checkSecrets: Secret references resolve in dev; base and prod define no
// Secret at all (they are created outside and documented).
func checkSecrets(t *testing.T, ov *overlay) {
	readme, _ := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "README.md"))
	for _, w := range ov.workloads() {
		for _, c := range append(append([]corev1.Container{}, w.pod.Spec.InitContainers...), w.pod.Spec.Containers...) {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				s := ov.find("Secret", ref.Name)
				if ov.name == "overlays/dev" {
					if s == nil {
						t.Errorf("%s/%s: Secret %s is not generated in dev", w.name, c.Name, ref.Name)
					} else if _, ok := s.Secret.Data[ref.Key]; !ok {
						if _, ok := s.Secret.StringData[ref.Key]; !ok {
							t.Errorf("%s/%s: Secret %s has no key %s", w.name, c.Name, ref.Name, ref.Key)
						}
					}
				} else if !strings.Contains(string(readme), ref.Name) || !strings.Contains(string(readme), ref.Key) {
					t.Errorf("%s/%s: external Secret %s key %s is not documented in deploy/README.md", w.name, c.Name, ref.Name, ref.Key)
				}
			}
		}
	}
	if ov.name != "overlays/dev" {
		for _, s := range ov.kind("Secret") {
			t.Errorf("%s defines Secret %s; only the dev overlay may generate Secrets", ov.name, s.Name)
		}
	}
}

// checkKEDA: ScaledObjects target existing Deployments and name the stream
// and durable consumer the target service consumes (libs/queue).
func checkKEDA(t *testing.T, ov *overlay) {
	consts := queueConstants(t)
	scaled := map[string]bool{}
	for _, o := range ov.kind("ScaledObject") {
		so := o.ScaledObject
		target := so.Spec.ScaleTargetRef.Name
		scaled[target] = true
		if k := so.Spec.ScaleTargetRef.Kind; k != "" && k != "Deployment" || ov.find("Deployment", target) == nil {
			t.Errorf("ScaledObject %s: target %s %s is not a Deployment in the build", o.Name, so.Spec.ScaleTargetRef.Kind, target)
		}
		use, ok := serviceQueue(t, target, consts)
		if !ok {
			t.Errorf("ScaledObject %s: service %s consumes no queue", o.Name, target)
			continue
		}
		kinds := map[string]int{}
		for _, tr := range so.Spec.Triggers {
			kinds[tr.Type]++
			switch tr.Type {
			case "nats-jetstream":
				checkKeys(t, o.Name, tr.Type, tr.Metadata, natsJetStreamKeys, "natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold", "activationLagThreshold")
				if tr.Metadata["stream"] != use.stream || tr.Metadata["consumer"] != use.consumer {
					t.Errorf("ScaledObject %s: stream/consumer %s/%s, but %s consumes %s/%s (libs/queue)", o.Name, tr.Metadata["stream"], tr.Metadata["consumer"], target, use.stream, use.consumer)
				}
				if tr.Metadata["account"] != "$G" {
					t.Errorf("ScaledObject %s: account %q, want $G (no NATS accounts)", o.Name, tr.Metadata["account"])
				}
				checkMonitoringEndpoint(t, ov, o.Name, tr.Metadata["natsServerMonitoringEndpoint"])
				for _, k := range []string{"lagThreshold", "activationLagThreshold"} {
					if n, err := strconv.Atoi(tr.Metadata[k]); err != nil || n < 0 || k == "lagThreshold" && n == 0 {
						t.Errorf("ScaledObject %s: %s=%q is not a valid count", o.Name, k, tr.Metadata[k])
					}
				}
			case "prometheus":
				checkKeys(t, o.Name, tr.Type, tr.Metadata, prometheusKeys, "serverAddress", "query", "threshold")
				if u, err := url.Parse(tr.Metadata["serverAddress"]); err != nil || u.Host == "" {
					t.Errorf("ScaledObject %s: serverAddress %q is not a URL", o.Name, tr.Metadata["serverAddress"])
				}
				q := tr.Metadata["query"]
				if !strings.Contains(q, "kalla_queue_oldest_wait_seconds") || !strings.Contains(q, `type="`+strings.ToLower(use.prefix)+`"`) {
					t.Errorf("ScaledObject %s: query %q must read kalla_queue_oldest_wait_seconds{type=%q}", o.Name, q, strings.ToLower(use.prefix))
				}
				for _, k := range []string{"threshold", "activationThreshold"} {
					if v, ok := tr.Metadata[k]; ok {
						if _, err := strconv.ParseFloat(v, 64); err != nil {
							t.Errorf("ScaledObject %s: %s=%q is not a number", o.Name, k, v)
						}
					}
				}
			default:
				t.Errorf("ScaledObject %s: trigger type %s is not checked here", o.Name, tr.Type)
			}
		}
		if kinds["nats-jetstream"] != 1 {
			t.Errorf("ScaledObject %s: want one nats-jetstream trigger, got %d", o.Name, kinds["nats-jetstream"])
		}
		if ov.name != "overlays/dev" && kinds["prometheus"] != 1 {
			t.Errorf("ScaledObject %s: want one prometheus trigger (oldest wait), got %d", o.Name, kinds["prometheus"])
		}
		if so.Spec.MaxReplicaCount == nil || so.Spec.MinReplicaCount == nil {
			t.Errorf("ScaledObject %s: set minReplicaCount and maxReplicaCount", o.Name)
		} else if target == "executor" && *so.Spec.MinReplicaCount != 0 {
			t.Errorf("ScaledObject executor: minReplicaCount %d, want 0 (scale to zero)", *so.Spec.MinReplicaCount)
		}
	}
	for _, svc := range []string{"stager", "executor"} {
		if !scaled[svc] {
			t.Errorf("%s has no KEDA ScaledObject", svc)
		}
	}
}

func checkKeys(t *testing.T, name, typ string, md map[string]string, known map[string]bool, required ...string) {
	t.Helper()
	for k := range md {
		if !known[k] {
			t.Errorf("ScaledObject %s: %s trigger has undocumented metadata %q", name, typ, k)
		}
	}
	for _, k := range required {
		if md[k] == "" {
			t.Errorf("ScaledObject %s: %s trigger lacks %s", name, typ, k)
		}
	}
}

// checkMonitoringEndpoint: host:8222 of a headless Service in the build
// whose pods declare 8222, spelled <svc>.<namespace>.svc.cluster.local.
func checkMonitoringEndpoint(t *testing.T, ov *overlay, so, ep string) {
	t.Helper()
	host, port, err := net.SplitHostPort(ep)
	if err != nil || port != "8222" {
		t.Errorf("ScaledObject %s: natsServerMonitoringEndpoint %q, want host:8222", so, ep)
		return
	}
	parts := strings.SplitN(host, ".", 3)
	if len(parts) != 3 || parts[2] != "svc.cluster.local" {
		t.Errorf("ScaledObject %s: endpoint host %q, want <service>.<namespace>.svc.cluster.local", so, host)
		return
	}
	svc := ov.find("Service", parts[0])
	if svc == nil || svc.Namespace != parts[1] {
		t.Errorf("ScaledObject %s: Service %s in namespace %s is not in the build", so, parts[0], parts[1])
		return
	}
	if svc.Service.Spec.ClusterIP != "None" {
		t.Errorf("ScaledObject %s: Service %s must be headless (KEDA reaches each NATS node through it)", so, parts[0])
	}
	ok := false
	for _, p := range svc.Service.Spec.Ports {
		ok = ok || p.Port == 8222
	}
	if !ok {
		t.Errorf("ScaledObject %s: Service %s has no port 8222", so, parts[0])
	}
}

// checkTopology: the shape the issue asks for.
func checkTopology(t *testing.T, ov *overlay) {
	for _, svc := range append(kallaServices, "ballista-scheduler") {
		if o := ov.find("Deployment", svc); o == nil {
			t.Errorf("no Deployment %s", svc)
		}
	}
	// planner: Service, CPU HPA, readiness on /ready.
	if ov.find("Service", "planner") == nil {
		t.Error("no Service planner")
	}
	if h := ov.find("HorizontalPodAutoscaler", "planner"); h == nil {
		t.Error("no HPA planner")
	} else if len(h.HPA.Spec.Metrics) == 0 || h.HPA.Spec.Metrics[0].Resource == nil || h.HPA.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Error("HPA planner must scale on CPU")
	}
	for _, svc := range kallaServices {
		if w := ov.workload(svc); w != nil {
			for _, c := range w.pod.Spec.Containers {
				if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/ready" {
					t.Errorf("%s: readiness probe must GET /ready", svc)
				}
			}
		}
	}
	if w := ov.workload("reaper"); w != nil && (w.replicas == nil || *w.replicas != 2) {
		t.Error("reaper: want 2 replicas")
	}
	// Every HPA targets a workload in the build.
	for _, h := range ov.kind("HorizontalPodAutoscaler") {
		ref := h.HPA.Spec.ScaleTargetRef
		if ov.find(ref.Kind, ref.Name) == nil {
			t.Errorf("HPA %s: target %s/%s not in the build", h.Name, ref.Kind, ref.Name)
		}
	}
	// NATS: JetStream StatefulSet with a headless Service, 8222, volumes.
	nats := ov.find("StatefulSet", "nats")
	if nats == nil {
		t.Fatal("no StatefulSet nats")
	}
	if want := int32(3); ov.name != "overlays/dev" && (nats.StatefulSet.Spec.Replicas == nil || *nats.StatefulSet.Spec.Replicas != want) {
		t.Errorf("nats: want %d replicas", want)
	}
	if len(nats.StatefulSet.Spec.VolumeClaimTemplates) == 0 {
		t.Error("nats: no volumeClaimTemplates")
	}
	if hs := ov.find("Service", nats.StatefulSet.Spec.ServiceName); hs == nil || hs.Service.Spec.ClusterIP != "None" {
		t.Errorf("nats: serviceName %s is not a headless Service in the build", nats.StatefulSet.Spec.ServiceName)
	}
	if cm := ov.find("ConfigMap", configMapOf(nats.StatefulSet.Spec.Template.Spec.Volumes)); cm == nil || !strings.Contains(cm.ConfigMap.Data["nats.conf"], "jetstream") {
		t.Error("nats: its config has no jetstream block")
	}
	// Ballista 54.1.0.
	images := map[string]string{
		"ballista-scheduler": "ghcr.io/apache/datafusion-ballista-scheduler:54.1.0",
		"ballista-executor":  "ghcr.io/apache/datafusion-ballista-executor:54.1.0",
	}
	ports := map[string][]int32{"ballista-scheduler": {50050}, "ballista-executor": {50051, 50052}}
	for name, img := range images {
		w := ov.workload(name)
		if w == nil {
			t.Errorf("no workload %s", name)
			continue
		}
		c := w.pod.Spec.Containers[0]
		if c.Image != img {
			t.Errorf("%s: image %s, want %s", name, c.Image, img)
		}
		for _, p := range ports[name] {
			if !declaresPort(c, intstr.FromInt32(p)) {
				t.Errorf("%s: port %d not declared", name, p)
			}
		}
	}
	if ov.find("StatefulSet", "ballista-executor") == nil || ov.find("HorizontalPodAutoscaler", "ballista-executor") == nil {
		t.Error("ballista-executor: want a StatefulSet and an HPA")
	}
	if s := ov.find("Service", "ballista-scheduler"); s == nil || s.Service.Spec.Ports[0].Port != 50050 {
		t.Error("ballista-scheduler: want a Service on 50050")
	}
	// The executor's Ballista scheduler URL names that Service.
	if w := ov.workload("executor"); w != nil {
		for _, e := range w.pod.Spec.Containers[0].Env {
			if e.Name == "KALLA_BALLISTA_SCHEDULER" {
				u, err := url.Parse(e.Value)
				if err != nil || u.Hostname() != "ballista-scheduler" || u.Port() != "50050" {
					t.Errorf("executor: KALLA_BALLISTA_SCHEDULER=%q, want df://ballista-scheduler:50050", e.Value)
				}
			}
		}
	}
	// Services select pods and target declared ports.
	for _, s := range ov.kind("Service") {
		var pods []corev1.Container
		for _, w := range ov.workloads() {
			if selects(s.Service.Spec.Selector, w.pod.Labels) {
				pods = append(pods, w.pod.Spec.Containers...)
			}
		}
		if len(pods) == 0 {
			t.Errorf("Service %s selects no pods", s.Name)
			continue
		}
		for _, p := range s.Service.Spec.Ports {
			tp := p.TargetPort
			if tp.Type == intstr.Int && tp.IntVal == 0 {
				tp = intstr.FromInt32(p.Port)
			}
			found := false
			for _, c := range pods {
				found = found || declaresPort(c, tp)
			}
			if !found {
				t.Errorf("Service %s: targetPort %s is not declared by its pods", s.Name, tp.String())
			}
		}
	}
}

func configMapOf(vols []corev1.Volume) string {
	for _, v := range vols {
		if v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	return ""
}

func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkProd: PDBs, PodMonitors, NetworkPolicies, pinned images.
func checkProd(t *testing.T, ov *overlay) {
	for _, name := range append(kallaServices, "nats", "ballista-executor") {
		w := ov.workload(name)
		if w == nil {
			continue
		}
		covered := false
		for _, p := range ov.kind("PodDisruptionBudget") {
			covered = covered || selects(p.PDB.Spec.Selector.MatchLabels, w.pod.Labels)
		}
		if !covered {
			t.Errorf("%s has no PodDisruptionBudget", name)
		}
	}
	monitored := map[string]bool{}
	for _, o := range ov.kind("PodMonitor") {
		pm := o.PodMonitor
		matched := false
		for _, w := range ov.workloads() {
			if !selects(pm.Spec.Selector.MatchLabels, w.pod.Labels) {
				continue
			}
			matched = true
			monitored[w.name] = true
			for _, ep := range pm.Spec.PodMetricsEndpoints {
				for _, c := range w.pod.Spec.Containers {
					if !declaresPort(c, intstr.FromString(ep.Port)) {
						t.Errorf("PodMonitor %s: %s container %s has no port named %s", o.Name, w.name, c.Name, ep.Port)
					}
				}
			}
		}
		if !matched {
			t.Errorf("PodMonitor %s selects no pods", o.Name)
		}
	}
	for _, svc := range kallaServices {
		if !monitored[svc] {
			t.Errorf("%s has no PodMonitor", svc)
		}
	}
	// NetworkPolicies: default deny; only the planner open to everyone.
	denyAll := false
	for _, o := range ov.kind("NetworkPolicy") {
		np := o.NetPol.Spec
		all := len(np.PodSelector.MatchLabels) == 0 && len(np.PodSelector.MatchExpressions) == 0
		if all && len(np.Ingress) == 0 && contains(policyTypes(np.PolicyTypes), "Ingress") {
			denyAll = true
		}
		for _, r := range np.Ingress {
			open := len(r.From) == 0
			for _, p := range r.From {
				if p.IPBlock != nil && (p.IPBlock.CIDR == "0.0.0.0/0" || p.IPBlock.CIDR == "::/0") ||
					p.NamespaceSelector != nil && len(p.NamespaceSelector.MatchLabels) == 0 && len(p.NamespaceSelector.MatchExpressions) == 0 {
					open = true
				}
			}
			if open && np.PodSelector.MatchLabels["app.kubernetes.io/name"] != "planner" {
				t.Errorf("NetworkPolicy %s opens pods %v to every source; only the planner may be reachable from outside", o.Name, np.PodSelector.MatchLabels)
			}
		}
	}
	if !denyAll {
		t.Error("prod: no default-deny ingress NetworkPolicy")
	}
	for _, w := range ov.workloads() {
		for _, c := range w.pod.Spec.Containers {
			if strings.HasSuffix(c.Image, ":dev") {
				t.Errorf("prod %s: image %s is a dev tag", w.name, c.Image)
			}
		}
	}
}

func policyTypes(ts []networkingPolicyType) []string {
	var out []string
	for _, t := range ts {
		out = append(out, string(t))
	}
	return out
}

// checkDev: in-cluster PostgreSQL and S3.
func checkDev(t *testing.T, ov *overlay) {
	for _, name := range []string{"postgres", "s3"} {
		if ov.workload(name) == nil || ov.find("Service", name) == nil {
			t.Errorf("dev: want a workload and Service %s", name)
		}
	}
}

type networkingPolicyType = networkingv1.PolicyType
