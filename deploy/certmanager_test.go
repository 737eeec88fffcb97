package deploy_test

import (
	"slices"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// certManagerExample is the optional cert-manager example, which is no
// overlay and is not in overlays.
const certManagerExample = "k8s/examples/cert-manager"

// certManagerObject is the part of a cert-manager.io/v1 Issuer or
// Certificate that TestCertManagerExample reads.
type certManagerObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		SecretName string   `json:"secretName"`
		IsCA       bool     `json:"isCA"`
		DNSNames   []string `json:"dnsNames"`
		Usages     []string `json:"usages"`
		IssuerRef  struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"issuerRef"`
		CA *struct {
			SecretName string `json:"secretName"`
		} `json:"ca"`
	} `json:"spec"`
}

func renderCertManagerExample(t *testing.T) []certManagerObject {
	t.Helper()

	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), certManagerExample)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", certManagerExample, err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		t.Fatalf("encode %s as YAML: %v", certManagerExample, err)
	}

	var objects []certManagerObject
	for i, doc := range splitDocuments(out) {
		var object certManagerObject
		if err := yaml.Unmarshal(doc, &object); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if object.APIVersion != "cert-manager.io/v1" || (object.Kind != "Issuer" && object.Kind != "Certificate") {
			t.Errorf("document %d is %s %s, want a cert-manager.io/v1 Issuer or Certificate", i, object.APIVersion, object.Kind)
		}
		objects = append(objects, object)
	}
	return objects
}

// The example issues the TLS Secret of every workload from one CA Issuer,
// with the names that callers dial and the key usages that each process
// needs, in the namespace of the production overlay.
func TestCertManagerExample(t *testing.T) {
	objects := renderCertManagerExample(t)
	production := renderKustomization(t, "k8s/overlays/production")

	var issuers []string
	for name, want := range workloads {
		i := slices.IndexFunc(objects, func(o certManagerObject) bool {
			return o.Kind == "Certificate" && o.Spec.SecretName == tlsSecret(name)
		})
		if i < 0 {
			t.Errorf("no Certificate writes Secret %s", tlsSecret(name))
			continue
		}
		cert := objects[i]

		if cert.Spec.IsCA {
			t.Errorf("Certificate %s is a CA", cert.Metadata.Name)
		}
		if cert.Metadata.Namespace != production.Deployments[0].Namespace {
			t.Errorf("Certificate %s is in namespace %q, the production overlay in %q",
				cert.Metadata.Name, cert.Metadata.Namespace, production.Deployments[0].Namespace)
		}
		if !slices.Contains(cert.Spec.Usages, "client auth") {
			t.Errorf("Certificate %s usages = %v, want client auth", cert.Metadata.Name, cert.Spec.Usages)
		}
		// Callers dial dns:///<workload>:<port>, so a server's certificate
		// must name the workload.
		if slices.ContainsFunc(want.grpcEnv, isBindAddress) {
			if !slices.Contains(cert.Spec.Usages, "server auth") {
				t.Errorf("Certificate %s usages = %v, want server auth", cert.Metadata.Name, cert.Spec.Usages)
			}
			if !slices.Contains(cert.Spec.DNSNames, name) {
				t.Errorf("Certificate %s dnsNames = %v, want %s", cert.Metadata.Name, cert.Spec.DNSNames, name)
			}
		}
		checkCAIssuer(t, objects, cert)
		issuers = append(issuers, cert.Spec.IssuerRef.Name)
	}

	// Each process checks its peers against its own ca.crt, so one CA
	// must sign every certificate.
	if distinct := slices.Compact(slices.Sorted(slices.Values(issuers))); len(distinct) != 1 {
		t.Errorf("issuers of the workload certificates = %v, want one", distinct)
	}
}

// checkCAIssuer checks that cert names an Issuer of the example that
// signs with a CA.
func checkCAIssuer(t *testing.T, objects []certManagerObject, cert certManagerObject) {
	t.Helper()

	if cert.Spec.IssuerRef.Kind != "Issuer" {
		t.Errorf("Certificate %s issuerRef.kind = %q, want Issuer", cert.Metadata.Name, cert.Spec.IssuerRef.Kind)
		return
	}
	i := slices.IndexFunc(objects, func(o certManagerObject) bool {
		return o.Kind == "Issuer" && o.Metadata.Name == cert.Spec.IssuerRef.Name
	})
	if i < 0 {
		t.Errorf("Certificate %s: no Issuer %s in the example", cert.Metadata.Name, cert.Spec.IssuerRef.Name)
		return
	}
	if objects[i].Spec.CA == nil || objects[i].Spec.CA.SecretName == "" {
		t.Errorf("Issuer %s is not a CA Issuer", objects[i].Metadata.Name)
	}
}
