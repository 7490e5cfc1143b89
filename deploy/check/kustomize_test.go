package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizeBuild runs `kustomize build dir` in-process.
func kustomizeBuild(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// object is one decoded manifest: exactly one of the typed fields is set.
type object struct {
	APIVersion, Kind, Name, Namespace string
	Raw                               []byte // JSON

	Namespace_   *corev1.Namespace
	Service      *corev1.Service
	ConfigMap    *corev1.ConfigMap
	Secret       *corev1.Secret
	PVC          *corev1.PersistentVolumeClaim
	Deployment   *appsv1.Deployment
	StatefulSet  *appsv1.StatefulSet
	HPA          *autoscalingv2.HorizontalPodAutoscaler
	PDB          *policyv1.PodDisruptionBudget
	NetPol       *networkingv1.NetworkPolicy
	Job          *batchv1.Job
	CronJob      *batchv1.CronJob
	ScaledObject *ScaledObject
	PodMonitor   *PodMonitor
}

// decodeStrict decodes JSON into v; unknown fields and trailing data are errors.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the object")
	}
	return nil
}

// decodeObjects splits a YAML stream and decodes every document strictly
// into its Kubernetes API type (or our struct for custom resources).
func decodeObjects(stream []byte) ([]object, error) {
	var out []object
	var errs []string
	for i, doc := range splitYAML(stream) {
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if string(js) == "null" {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(js, &meta); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		o := object{APIVersion: meta.APIVersion, Kind: meta.Kind, Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace, Raw: js}
		var target any
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 Namespace":
			o.Namespace_ = &corev1.Namespace{}
			target = o.Namespace_
		case "v1 Service":
			o.Service = &corev1.Service{}
			target = o.Service
		case "v1 ConfigMap":
			o.ConfigMap = &corev1.ConfigMap{}
			target = o.ConfigMap
		case "v1 Secret":
			o.Secret = &corev1.Secret{}
			target = o.Secret
		case "v1 PersistentVolumeClaim":
			o.PVC = &corev1.PersistentVolumeClaim{}
			target = o.PVC
		case "apps/v1 Deployment":
			o.Deployment = &appsv1.Deployment{}
			target = o.Deployment
		case "apps/v1 StatefulSet":
			o.StatefulSet = &appsv1.StatefulSet{}
			target = o.StatefulSet
		case "autoscaling/v2 HorizontalPodAutoscaler":
			o.HPA = &autoscalingv2.HorizontalPodAutoscaler{}
			target = o.HPA
		case "policy/v1 PodDisruptionBudget":
			o.PDB = &policyv1.PodDisruptionBudget{}
			target = o.PDB
		case "networking.k8s.io/v1 NetworkPolicy":
			o.NetPol = &networkingv1.NetworkPolicy{}
			target = o.NetPol
		case "batch/v1 Job":
			o.Job = &batchv1.Job{}
			target = o.Job
		case "batch/v1 CronJob":
			o.CronJob = &batchv1.CronJob{}
			target = o.CronJob
		case "keda.sh/v1alpha1 ScaledObject":
			o.ScaledObject = &ScaledObject{}
			target = o.ScaledObject
		case "monitoring.coreos.com/v1 PodMonitor":
			o.PodMonitor = &PodMonitor{}
			target = o.PodMonitor
		default:
			errs = append(errs, fmt.Sprintf("%s %s %q: no type to check it against", meta.APIVersion, meta.Kind, meta.Metadata.Name))
			continue
		}
		if err := decodeStrict(js, target); err != nil {
			errs = append(errs, fmt.Sprintf("%s %q: %v", meta.Kind, meta.Metadata.Name, err))
			continue
		}
		out = append(out, o)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

func splitYAML(stream []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), stream...), []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// overlay is one built kustomization with lookups.
type overlay struct {
	name    string
	objects []object
}

func loadOverlay(t *testing.T, name string) *overlay {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy", "k8s", name)
	out, err := kustomizeBuild(dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	objs, err := decodeObjects(out)
	if err != nil {
		t.Fatalf("kustomize build %s: strict decode:\n%v", dir, err)
	}
	if len(objs) == 0 {
		t.Fatalf("kustomize build %s: no objects", dir)
	}
	return &overlay{name: name, objects: objs}
}

func (ov *overlay) find(kind, name string) *object {
	for i := range ov.objects {
		if ov.objects[i].Kind == kind && ov.objects[i].Name == name {
			return &ov.objects[i]
		}
	}
	return nil
}

func (ov *overlay) kind(kind string) []object {
	var out []object
	for _, o := range ov.objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// workload is a Deployment or StatefulSet seen through its pod template.
type workload struct {
	kind, name string
	replicas   *int32
	selector   map[string]string
	pod        *corev1.PodTemplateSpec
}

func (ov *overlay) workloads() []workload {
	var out []workload
	for _, o := range ov.objects {
		switch {
		case o.Deployment != nil:
			out = append(out, workload{"Deployment", o.Name, o.Deployment.Spec.Replicas, o.Deployment.Spec.Selector.MatchLabels, &o.Deployment.Spec.Template})
		case o.StatefulSet != nil:
			out = append(out, workload{"StatefulSet", o.Name, o.StatefulSet.Spec.Replicas, o.StatefulSet.Spec.Selector.MatchLabels, &o.StatefulSet.Spec.Template})
		case o.Job != nil:
			out = append(out, workload{"Job", o.Name, nil, nil, &o.Job.Spec.Template})
		case o.CronJob != nil:
			out = append(out, workload{"CronJob", o.Name, nil, nil, &o.CronJob.Spec.JobTemplate.Spec.Template})
		}
	}
	return out
}

func (ov *overlay) workload(name string) *workload {
	for _, w := range ov.workloads() {
		if w.name == name {
			return &w
		}
	}
	return nil
}

// repoRoot is the directory holding go.work.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found above the test's directory")
		}
		dir = parent
	}
}
