// Package deploy_test checks the deployment files of the repository
// statically: the Kustomize overlays under k8s/, docker-compose.yml and the
// Dockerfile at the repository root. Nothing here needs a cluster or a
// Docker daemon.
package deploy_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// overlays are the kustomizations that are rendered and checked, relative
// to this directory. base is one too: it must render on its own.
var overlays = []string{"k8s/base", "k8s/overlays/dev", "k8s/overlays/production"}

// manifests holds the decoded objects of one rendered kustomization.
type manifests struct {
	Deployments     []*appsv1.Deployment
	Services        []*corev1.Service
	ConfigMaps      []*corev1.ConfigMap
	ServiceAccounts []*corev1.ServiceAccount
	HPAs            []*autoscalingv2.HorizontalPodAutoscaler
	PDBs            []*policyv1.PodDisruptionBudget
	NetworkPolicies []*networkingv1.NetworkPolicy
}

// typeMeta is the apiVersion and kind of a YAML document, read before the
// document is decoded into its type.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// renderKustomization runs kustomize on dir and decodes the result.
func renderKustomization(t *testing.T, dir string) *manifests {
	t.Helper()

	kustomizer := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := kustomizer.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}

	out, err := resources.AsYaml()
	if err != nil {
		t.Fatalf("encode %s as YAML: %v", dir, err)
	}

	objects, err := decodeManifests(out)
	if err != nil {
		t.Fatalf("decode kustomize build %s: %v", dir, err)
	}
	return objects
}

// decodeManifests decodes a multi-document YAML stream strictly: a field
// that the Kubernetes type does not have, a duplicate field and a kind
// outside the set this project deploys are all errors.
func decodeManifests(stream []byte) (*manifests, error) {
	var objects manifests
	for i, doc := range splitDocuments(stream) {
		if err := objects.add(doc); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
	}
	return &objects, nil
}

// splitDocuments splits a YAML stream at its "---" lines and drops empty
// documents.
func splitDocuments(stream []byte) [][]byte {
	var docs [][]byte
	for doc := range bytes.SplitSeq(stream, []byte("\n---")) {
		doc = bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("---"))
		if len(bytes.TrimSpace(doc)) > 0 {
			docs = append(docs, doc)
		}
	}
	return docs
}

func (m *manifests) add(doc []byte) error {
	var meta typeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return fmt.Errorf("read apiVersion and kind: %w", err)
	}

	switch meta.APIVersion + " " + meta.Kind {
	case "apps/v1 Deployment":
		return decodeInto(doc, &m.Deployments)
	case "v1 Service":
		return decodeInto(doc, &m.Services)
	case "v1 ConfigMap":
		return decodeInto(doc, &m.ConfigMaps)
	case "v1 ServiceAccount":
		return decodeInto(doc, &m.ServiceAccounts)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return decodeInto(doc, &m.HPAs)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(doc, &m.PDBs)
	case "networking.k8s.io/v1 NetworkPolicy":
		return decodeInto(doc, &m.NetworkPolicies)
	default:
		return fmt.Errorf("unexpected object %s %s: add a decoder and its checks first", meta.APIVersion, meta.Kind)
	}
}

func decodeInto[T any](doc []byte, list *[]*T) error {
	obj := new(T)
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return fmt.Errorf("decode strictly into %T: %w", obj, err)
	}
	*list = append(*list, obj)
	return nil
}

// configMap returns the rendered ConfigMap that an envFrom reference
// names. Kustomize has already rewritten the reference to the hashed name.
func (m *manifests) configMap(name string) *corev1.ConfigMap {
	for _, cm := range m.ConfigMaps {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

// containerEnv returns the environment a container gets from its
// ConfigMaps and its literal env entries, in the order Kubernetes applies
// them (env overrides envFrom). Secret references are left out.
func (m *manifests) containerEnv(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()

	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("container %s: envFrom other than a ConfigMap: %+v", c.Name, from)
			continue
		}
		cm := m.configMap(from.ConfigMapRef.Name)
		if cm == nil {
			t.Errorf("container %s: ConfigMap %s is not rendered", c.Name, from.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}

// overlayName returns the last element of an overlay path, for subtests.
func overlayName(dir string) string {
	return strings.ReplaceAll(filepath.ToSlash(dir), "/", "_")
}

func TestDecodeManifestsRejectsUnknownField(t *testing.T) {
	doc := []byte(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: wallet
spec:
  replica: 2
`)
	_, err := decodeManifests(doc)
	if err == nil {
		t.Fatal("decodeManifests accepted the unknown field spec.replica")
	}
	if !strings.Contains(err.Error(), `unknown field "replica"`) {
		t.Errorf("error = %v, want it to name the unknown field spec.replica", err)
	}
}

func TestDecodeManifestsRejectsUnexpectedKind(t *testing.T) {
	doc := []byte(`
apiVersion: v1
kind: Secret
metadata:
  name: ledger-jwt
stringData:
  secret: inline
`)
	_, err := decodeManifests(doc)
	if err == nil {
		t.Fatal("decodeManifests accepted a Secret")
	}
	if !strings.Contains(err.Error(), "unexpected object v1 Secret") {
		t.Errorf("error = %v, want unexpected object v1 Secret", err)
	}
}
