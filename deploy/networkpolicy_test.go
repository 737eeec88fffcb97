package deploy_test

import (
	"maps"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// grpcCallers lists, per gRPC service, the workloads that may call it.
var grpcCallers = map[string][]string{
	"wallet":      {"gateway", "payment"},
	"payment":     {"gateway"},
	"idempotency": {"payment", "wallet"},
	"ratelimit":   {"gateway"},
}

// The stores and the workloads that reach them. Redis includes the
// Sentinel port, which the production overlay uses.
var (
	postgresPorts   = []int32{5432}
	postgresClients = []string{"gateway", "idempotency", "payment", "wallet"}
	redisPorts      = []int32{6379, 26379}
	redisClients    = []string{"idempotency", "ratelimit", "wallet"}
)

// policiesFor returns the NetworkPolicies that select the pods of d.
func policiesFor(objects *manifests, d *appsv1.Deployment) []*networkingv1.NetworkPolicy {
	var selected []*networkingv1.NetworkPolicy
	for _, np := range objects.NetworkPolicies {
		if selects(&np.Spec.PodSelector, d.Spec.Template.Labels) {
			selected = append(selected, np)
		}
	}
	return selected
}

func hasPolicyType(np *networkingv1.NetworkPolicy, want networkingv1.PolicyType) bool {
	return slices.Contains(np.Spec.PolicyTypes, want)
}

// portAllowed reports whether a rule's port list admits TCP or UDP port
// n. An empty list admits every port.
func portAllowed(ports []networkingv1.NetworkPolicyPort, protocol corev1.Protocol, n int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != protocol {
			continue
		}
		if p.Port == nil {
			return true
		}

		// NOTE: a named port (IntValue 0) never matches here, because
		// the policies of this project use port numbers only.
		first := int32(p.Port.IntValue())
		last := first
		if p.EndPort != nil {
			last = *p.EndPort
		}
		if first <= n && n <= last {
			return true
		}
	}
	return false
}

// peerIsEverywhere reports whether a peer admits any address: an ipBlock
// of the whole address space with no exceptions, or any pod of any
// namespace.
func peerIsEverywhere(peer networkingv1.NetworkPolicyPeer) bool {
	if peer.IPBlock != nil {
		wide := peer.IPBlock.CIDR == "0.0.0.0/0" || peer.IPBlock.CIDR == "::/0"
		return wide && len(peer.IPBlock.Except) == 0
	}
	emptyNamespaces := peer.NamespaceSelector != nil && len(peer.NamespaceSelector.MatchLabels) == 0 && len(peer.NamespaceSelector.MatchExpressions) == 0
	emptyPods := peer.PodSelector == nil || (len(peer.PodSelector.MatchLabels) == 0 && len(peer.PodSelector.MatchExpressions) == 0)
	return emptyNamespaces && emptyPods
}

// ingressFromEverywhere returns the ports on which the policies admit
// traffic from any source. 0 stands for every port.
func ingressFromEverywhere(policies []*networkingv1.NetworkPolicy) []int32 {
	var ports []int32
	for _, np := range policies {
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) > 0 && !slices.ContainsFunc(rule.From, peerIsEverywhere) {
				continue
			}
			if len(rule.Ports) == 0 {
				ports = append(ports, 0)
			}
			for _, p := range rule.Ports {
				ports = append(ports, int32(p.Port.IntValue()))
			}
		}
	}
	return ports
}

// workloadsAdmitted returns the workloads whose pods an ingress rule of
// the policies admits on TCP port n. Peers with a namespaceSelector name
// other namespaces and are left out.
func workloadsAdmitted(objects *manifests, policies []*networkingv1.NetworkPolicy, n int32) []string {
	admitted := map[string]bool{}
	for _, np := range policies {
		for _, rule := range np.Spec.Ingress {
			if !portAllowed(rule.Ports, corev1.ProtocolTCP, n) {
				continue
			}
			for _, peer := range rule.From {
				if peer.PodSelector == nil || peer.NamespaceSelector != nil {
					continue
				}
				for _, d := range objects.Deployments {
					if selects(peer.PodSelector, d.Spec.Template.Labels) {
						admitted[d.Name] = true
					}
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(admitted))
}

// egressAllowed reports whether the policies let a pod open a connection
// to port n of some destination. With no policy of type Egress every
// connection is allowed.
func egressAllowed(policies []*networkingv1.NetworkPolicy, protocol corev1.Protocol, n int32) bool {
	isolated := false
	for _, np := range policies {
		if !hasPolicyType(np, networkingv1.PolicyTypeEgress) {
			continue
		}
		isolated = true
		for _, rule := range np.Spec.Egress {
			if portAllowed(rule.Ports, protocol, n) {
				return true
			}
		}
	}
	return !isolated
}

func TestNetworkPolicies(t *testing.T) {
	for _, dir := range overlays {
		t.Run(overlayName(dir), func(t *testing.T) {
			objects := renderKustomization(t, dir)
			checkIsolation(t, objects)
			checkPublicIngress(t, objects)
			checkGRPCCallers(t, objects)
			checkStoreEgress(t, objects, "PostgreSQL", postgresPorts, postgresClients)
			checkStoreEgress(t, objects, "Redis", redisPorts, redisClients)
		})
	}
}

// checkIsolation checks that every workload is isolated for ingress and
// egress, has no rule that opens all egress, and can resolve names.
func checkIsolation(t *testing.T, objects *manifests) {
	t.Helper()

	for _, d := range objects.Deployments {
		policies := policiesFor(objects, d)
		if !slices.ContainsFunc(policies, func(np *networkingv1.NetworkPolicy) bool {
			return hasPolicyType(np, networkingv1.PolicyTypeIngress)
		}) {
			t.Errorf("%s: no NetworkPolicy isolates its ingress", d.Name)
		}
		if !slices.ContainsFunc(policies, func(np *networkingv1.NetworkPolicy) bool {
			return hasPolicyType(np, networkingv1.PolicyTypeEgress)
		}) {
			t.Errorf("%s: no NetworkPolicy isolates its egress", d.Name)
		}

		for _, np := range policies {
			for _, rule := range np.Spec.Egress {
				if len(rule.To) == 0 && len(rule.Ports) == 0 {
					t.Errorf("%s: NetworkPolicy %s allows all egress", d.Name, np.Name)
				}
			}
		}

		if !egressAllowed(policies, corev1.ProtocolUDP, 53) || !egressAllowed(policies, corev1.ProtocolTCP, 53) {
			t.Errorf("%s: DNS (UDP and TCP port 53) egress is not allowed", d.Name)
		}
	}
}

// checkPublicIngress checks that the gateway is the one workload that
// accepts traffic from everywhere, and only on its HTTP port.
func checkPublicIngress(t *testing.T, objects *manifests) {
	t.Helper()

	for _, d := range objects.Deployments {
		ports := ingressFromEverywhere(policiesFor(objects, d))
		if d.Name == "gateway" {
			if !slices.Equal(ports, []int32{8080}) {
				t.Errorf("gateway: ports open to everywhere = %v, want [8080]", ports)
			}
			continue
		}
		if len(ports) > 0 {
			t.Errorf("%s: ports open to everywhere = %v, want none", d.Name, ports)
		}
	}
}

func checkGRPCCallers(t *testing.T, objects *manifests) {
	t.Helper()

	for _, d := range objects.Deployments {
		want, ok := grpcCallers[d.Name]
		if !ok {
			continue
		}
		port := containerPort(t, d.Spec.Template.Spec.Containers[0], "grpc")
		got := workloadsAdmitted(objects, policiesFor(objects, d), port)
		if !slices.Equal(got, want) {
			t.Errorf("%s: callers admitted on gRPC port %d = %v, want %v", d.Name, port, got, want)
		}
	}
}

// checkStoreEgress checks that exactly the clients may open connections
// to the store's ports.
func checkStoreEgress(t *testing.T, objects *manifests, store string, ports []int32, clients []string) {
	t.Helper()

	for _, port := range ports {
		var allowed []string
		for _, d := range objects.Deployments {
			if egressAllowed(policiesFor(objects, d), corev1.ProtocolTCP, port) {
				allowed = append(allowed, d.Name)
			}
		}
		slices.Sort(allowed)
		if !slices.Equal(allowed, clients) {
			t.Errorf("%s port %d: egress allowed from %v, want %v", store, port, allowed, clients)
		}
	}
}
