# ---- gateway.sh: a gateway's steps (it forwards and masquerades its clients' traffic out of its own uplink).

# The gateway's table ip egress. Item of clients: TUNNEL SOURCE NAME (the tunnel a client arrives through, the tunnel
# address it sends from). Masquerade matches the tunnel, not a source, so whatever source the client's kernel picked
# is covered; forward accepts only each client's own source and counts and drops the rest.
# Overlay source verification (docs/host.md "What guards the overlay"): the outer source must be a configured client
# (input, every overlay), a VXLAN id only from its own client (VXLAN demultiplexes by id alone and accepts any outer
# source; ipip and gre find the tunnel by its remote, so the kernel binds them), and what comes out of a client's tunnel
# must carry that client's own tunnel address as source (prerouting, before conntrack: to the gateway itself too, e.g.
# its DNS forwarder, not only forwarded). A forged private outer source from the internet is the IGW's to drop.
nft_body() {
  cat <<EOF2
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
$(clients nft_inner)
  }
  chain input {
    type filter hook input priority filter; policy accept;
    $NFT_OVERLAY ip saddr != { $NFT_PEERS } counter drop comment "overlay packets only from the configured clients"
$(tunnels nft_binding)
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    tcp flags syn tcp option maxseg size set rt mtu comment "clamp MSS to the path MTU"
    ct state established,related counter accept
$(clients nft_forward)
    counter drop comment "not from a configured client"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
$(clients nft_masquerade)
  }
EOF2
}
nft_forward() { printf '    iifname "%s" oifname "%s" ip saddr %s counter accept comment "%s"\n' "$1" "$UPLINK" "$2" "$3"; }
nft_masquerade() { printf '    iifname "%s" oifname "%s" counter masquerade comment "every source from the tunnel of %s"\n' "$1" "$UPLINK" "$3"; }
nft_inner() { printf '    iifname "%s" ip saddr != %s counter drop comment "inner source: only %s from the tunnel of %s"\n' "$1" "$2" "$2" "$3"; }
# nft_binding NAME LOCAL REMOTE KEY _ _ PEER: VXLAN id KEY (bits 96-119 of the UDP header + VXLAN header) only from REMOTE.
nft_binding() {
  [ "$OVERLAY" = vxlan ] || return 0
  printf '    udp dport %s @th,96,24 %s ip saddr != %s counter drop comment "overlay id %s only from %s"\n' "$VXLAN_PORT" "$4" "$3" "$4" "$7"
}

# Step firewall: table ip egress, before ip_forward turns on (so the gateway is never an open relay) and deleted after
# it is restored (down runs the steps in reverse).
client_name() { n="${n:+$n, }$3"; }
apply_firewall() {
  n=''
  clients client_name
  log "nftables table ip egress: forward and masquerade $n, drop the rest"
  nft_apply
}
down_firewall() { nft_delete; }
check_firewall() {
  begin nat.table
  c_nft "comment \"$(nft_id)\"" ''
  end
  begin nat.masquerade-covers-tunnel
  clients c_masquerade
  end
  begin forward.only-clients
  c_nft 'hook forward' 'policy drop;'
  clients c_forward
  c_nft 'ct state established,related' accept
  c_nft 'counter packets' 'drop comment "not from a configured client'
  end
  begin overlay.only-clients
  c_nft 'overlay packets only from' drop
  tunnels c_binding
  end
  begin overlay.inner-source
  c_nft 'hook prerouting' 'priority raw;'
  clients c_inner
  end
  begin forward.mss-clamp
  c_nft 'tcp flags syn' 'maxseg size set rt mtu'
  end
}
c_masquerade() { c_nft "iifname \"$1\" oifname \"$UPLINK\" counter" masquerade; }
c_forward() { c_nft "iifname \"$1\" oifname \"$UPLINK\" ip saddr $2 " accept; }
c_inner() { c_nft "iifname \"$1\" ip saddr != $2 counter" "drop comment \"inner source: only $2 from the tunnel of $3\""; }
c_binding() { [ "$OVERLAY" = vxlan ] || return 0; c_nft "ip saddr != $3 counter" "drop comment \"overlay id $4 only from $7\""; }
# Step dns: a caching DNS forwarder (dnsmasq) bound only to the tunnel addresses of the clients that resolve through this
# gateway (DNS_LISTEN), forwarding to this VPC's resolver (DNS_UPSTREAM): names resolve where the traffic leaves. For
# each listen address A (e.g. 192.168.250.5) it answers A-WITH-DASHES.HOST.dns.egress.test (192-168-250-5.tokyo-nat...)
# with A itself: each client's check asks the name of its own tunnel address through the tunnel.
apply_dns() {
  log "dns forwarder (dnsmasq) on $DNS_LISTEN to the VPC resolver $DNS_UPSTREAM"
  set --
  for a in $DNS_LISTEN; do
    set -- "$@" "--listen-address=$a" "--address=/$(echo "$a" | sed 's/\./-/g').$HOST_NAME.dns.egress.test/$a"
  done
  dns_start "$@" "--server=$DNS_UPSTREAM"
}
down_dns() { dns_stop; }
check_dns() {
  begin dns.forwarder
  if dns_running; then
    l=$(ss -Hlnup 2>/dev/null | grep "pid=$DPID,")
    for a in $DNS_LISTEN; do
      case "$l" in *" $a:53 "*) fact true "dnsmasq pid $DPID on $a:53" ;; *) fact false "dnsmasq pid $DPID does not listen on $a:53" ;; esac
    done
    case "$l" in *" 0.0.0.0:53 "* | *" *:53 "*) fact false "dnsmasq listens on every address, not only the tunnels" ;; esac
  else
    fact false "the dns forwarder (dnsmasq) is not running in this network namespace ($(dns_why))"
  fi
  end
}
# shellcheck disable=SC2034 # VERBS: used by main.sh
VERBS='apply|check|down|status'
