// Service and protocol names, as tcpdump resolves them through /etc/services and /etc/protocols:
// this table is Debian's netbase (the files libpcap reads on the machines tsbpf is tested on), so
// filters compile the same everywhere. test/net/filter-syntax.test.ts compares it with the files
// of the machine it runs on.
// Format: `name:port` (TCP and UDP alike), `name:port/tcp`, `name:port/udp`, or both spelled out.

const SERVICE_TEXT = `
Clearcase:371/udp acr-nema:104/tcp afpovertcp:548/tcp afs3-bos:7007/udp afs3-callback:7001/udp
afs3-fileserver:7000/udp afs3-kaserver:7004/udp afs3-prserver:7002/udp afs3-rmtsys:7009/udp
afs3-update:7008/udp afs3-vlserver:7003/udp afs3-volser:7005/udp amanda:10080/tcp amandaidx:10082/tcp
amidxtape:10083/tcp amqp:5672/tcp amqps:5671/tcp asf-rmcp:623/udp asp:27374 auth:113/tcp
authentication:113/tcp babel:6696/udp bacula-dir:9101/tcp bacula-fd:9102/tcp bacula-sd:9103/tcp bbs:7000/tcp
bgp:179/tcp bgpd:2605/tcp biff:512/udp binkp:24554/tcp bootpc:68/udp bootps:67/udp canna:5680/tcp
cfengine:5308/tcp chargen:19 cisco-sccp:2000/tcp clc-build-daemon:8990/tcp clearcase:371/udp cmd:514/tcp
cmip-agent:164 cmip-man:163 codaauth2:370 codasrv:2432 codasrv-se:2433 comsat:512/udp csync2:30865/tcp
cvspserver:2401/tcp daap:3689/tcp datametrics:1645 daytime:13 db-lsp:17500/tcp dcap:22125/tcp
dhcpv6-client:546/udp dhcpv6-server:547/udp dicom:104/tcp dict:2628/tcp dircproxy:57000/tcp discard:9
distcc:3632/tcp domain:53 domain-s:853 echo:7 epmap:135/tcp epmd:4369/tcp exec:512/tcp f5-globalsite:2792/tcp
f5-iquery:4353/tcp fax:4557/tcp fido:60179/tcp finger:79/tcp font-service:7100/tcp freeciv:5556/tcp fsp:21/udp
fspd:21/udp ftp:21/tcp ftp-data:20/tcp ftps:990/tcp ftps-data:989/tcp gdomap:538 gds-db:3050/tcp
gds_db:3050/tcp git:9418/tcp gnunet:2086 gnutella-rtr:6347 gnutella-svc:6346 gopher:70/tcp gpsd:2947/tcp
gris:2135/tcp groupwise:1677/tcp gsidcap:22128/tcp gsiftp:2811/tcp gsigatekeeper:2119/tcp hkp:11371/tcp
hprop:754/tcp http:80/tcp http-alt:8080/tcp https:443 hylafax:4559/tcp iax:4569/udp icp:3130/udp
icpv2:3130/udp ident:113/tcp imap:143/tcp imap2:143/tcp imaps:993/tcp ingreslock:1524/tcp ipp:631/tcp
iprop:2121/tcp ipsec-nat-t:4500/udp ipx:213/udp ircd:6667/tcp ircs-u:6697/tcp isakmp:500/udp
iscsi-target:3260/tcp isisd:2608/tcp isns:3205 iso-tsap:102/tcp jabber-client:5222/tcp jabber-server:5269/tcp
kamanda:10081/tcp kdc:750 kerberos:88 kerberos-adm:749/tcp kerberos-iv:750 kerberos-master:751 kerberos-sec:88
kerberos4:750 kerberos5:88 kerberos_master:751/udp kermit:1649/tcp klogin:543/tcp kpasswd:464 krb-prop:754/tcp
krb5:88 krb5_prop:754/tcp krb_prop:754/tcp krcmd:544/tcp kshell:544/tcp l2f:1701/udp l2tp:1701/udp ldap:389
ldaps:636 ldp:646 loc-srv:135/tcp login:513/tcp lotusnote:1352/tcp lotusnotes:1352/tcp lrrd:4949/tcp
mail:25/tcp mailq:174/tcp mdns:5353/udp microsoft-ds:445/tcp moira-db:775/tcp moira-update:777/tcp
moira-ureg:779/udp moira_db:775/tcp moira_update:777/tcp moira_ureg:779/udp mon:2583 ms-sql-m:1434/udp
ms-sql-s:1433/tcp ms-wbt-server:3389/tcp mtn:4691/tcp munin:4949/tcp mysql:3306/tcp mysql-proxy:6446/tcp
nbd:10809/tcp netbios-dgm:138/udp netbios-ns:137/udp netbios-ssn:139/tcp netstat:15/tcp nfs:2049
nicname:43/tcp nntp:119/tcp nntps:563/tcp nqs:607/tcp nrpe:5666/tcp nsca:5667/tcp ntalk:518/udp ntp:123/udp
ntske:4460/tcp null:9 nut:3493 old-radacct:1646 old-radius:1645 omniorb:8088/tcp openvpn:1194 ospf6d:2606/tcp
ospfapi:2607/tcp ospfd:2604/tcp passwd-server:752/udp passwd_server:752/udp pawserv:345/tcp pop-3:110/tcp
pop3:110/tcp pop3s:995/tcp poppassd:106/tcp portmapper:111 postgres:5432/tcp postgresql:5432/tcp
predict:1210/udp printer:515/tcp proofd:1093/tcp ptp-event:319/udp ptp-general:320/udp puppet:8140/tcp
qmqp:628/tcp qmtp:209/tcp qotd:17/tcp quote:17/tcp radacct:1813 radius:1812 radius-acct:1813
radmin-port:4899/tcp readnews:119/tcp redis:6379/tcp remctl:4373/tcp ripd:2602/tcp ripngd:2603/tcp
rmiregistry:1099/tcp rmtcfg:1236/tcp rootd:1094/tcp route:520/udp routed:520/udp router:520/udp
rpc2portmap:369 rplay:5555/udp rptp:5556/tcp rsync:873/tcp rtcm-sc104:2101 rtsp:554 sa-msg-port:1646
saft:487/tcp sane:6566/tcp sane-port:6566/tcp saned:6566/tcp sge-execd:6445/tcp sge-qmaster:6444/tcp
sge_execd:6445/tcp sge_qmaster:6444/tcp sgi-cad:17004/tcp sgi-cmsd:17001/udp sgi-crsd:17002/udp
sgi-gcd:17003/udp shell:514/tcp sieve:4190/tcp silc:706/tcp sink:9 sip:5060 sip-tls:5061 skkserv:1178/tcp
smtp:25/tcp smtps:465/tcp smux:199/tcp snmp:161 snmp-trap:162 snmptrap:162 snntp:563/tcp snpp:444/tcp
socks:1080/tcp source:19 spamd:783/tcp spooler:515/tcp ssh:22/tcp ssmtp:465/tcp submission:587/tcp
submissions:465/tcp subversion:3690/tcp sunrpc:111 supfiledbg:1127/tcp supfilesrv:871/tcp suucp:4031/tcp
svn:3690/tcp svrloc:427 syslog:514 syslog-tls:6514/tcp sysrqd:4094/tcp systat:11/tcp tacacs:49 talk:517/udp
tap:113/tcp tcpmux:1/tcp telnet:23/tcp telnets:992/tcp tfido:60177/tcp tftp:69/udp time:37 timserver:37
tinc:655 tproxy:8081/tcp tsap:102/tcp ttytst:19 untp:119/tcp urd:465/tcp users:11/tcp uucp:540/tcp
uucpd:540/tcp venus:2430 venus-se:2431 wais:210/tcp webcache:8080/tcp webmin:10000/tcp who:513/udp
whod:513/udp whois:43/tcp wnn6:22273/tcp www:80/tcp x11:6000/tcp x11-0:6000/tcp x11-1:6001/tcp x11-2:6002/tcp
x11-3:6003/tcp x11-4:6004/tcp x11-5:6005/tcp x11-6:6006/tcp x11-7:6007/tcp xdmcp:177/udp xfs:7100/tcp
xinetd:9098/tcp xmms2:9667/tcp xmpp-client:5222/tcp xmpp-server:5269/tcp xtel:1313/tcp xtelw:1314/tcp
z3950:210/tcp zabbix-agent:10050/tcp zabbix-trapper:10051/tcp zebra:2601/tcp zebrasrv:2600/tcp
zephyr-clt:2103/udp zephyr-hm:2104/udp zephyr-srv:2102/udp zope:9673/tcp zope-ftp:8021/tcp zserv:346/tcp
`;

const PROTOCOL_TEXT = `
ip:0 IP:0 hopopt:0 HOPOPT:0 icmp:1 ICMP:1 igmp:2 IGMP:2 ggp:3 GGP:3 ipencap:4 IP-ENCAP:4 st:5 ST:5 tcp:6 TCP:6
egp:8 EGP:8 igp:9 IGP:9 pup:12 PUP:12 udp:17 UDP:17 hmp:20 HMP:20 xns-idp:22 XNS-IDP:22 rdp:27 RDP:27
iso-tp4:29 ISO-TP4:29 dccp:33 DCCP:33 xtp:36 XTP:36 ddp:37 DDP:37 idpr-cmtp:38 IDPR-CMTP:38 ipv6:41 IPv6:41
ipv6-route:43 IPv6-Route:43 ipv6-frag:44 IPv6-Frag:44 idrp:45 IDRP:45 rsvp:46 RSVP:46 gre:47 GRE:47 esp:50
IPSEC-ESP:50 ah:51 IPSEC-AH:51 skip:57 SKIP:57 ipv6-icmp:58 IPv6-ICMP:58 ipv6-nonxt:59 IPv6-NoNxt:59
ipv6-opts:60 IPv6-Opts:60 rspf:73 RSPF:73 CPHB:73 vmtp:81 VMTP:81 eigrp:88 EIGRP:88 ospf:89 OSPFIGP:89
ax.25:93 AX.25:93 ipip:94 IPIP:94 etherip:97 ETHERIP:97 encap:98 ENCAP:98 pim:103 PIM:103 ipcomp:108
IPCOMP:108 vrrp:112 VRRP:112 l2tp:115 L2TP:115 isis:124 ISIS:124 sctp:132 SCTP:132 fc:133 FC:133
mobility-header:135 Mobility-Header:135 udplite:136 UDPLite:136 mpls-in-ip:137 MPLS-in-IP:137 manet:138
hip:139 HIP:139 shim6:140 Shim6:140 wesp:141 WESP:141 rohc:142 ROHC:142 ethernet:143 Ethernet:143 mptcp:262
MPTCP:262
`;

export interface Service {
  tcp?: number;
  udp?: number;
}

/** Port numbers by service name (aliases included), per transport. */
export const SERVICES: ReadonlyMap<string, Service> = new Map(
  SERVICE_TEXT.split(/\s+/).filter(Boolean).map((entry) => {
    const [name, spec] = entry.split(':') as [string, string];
    const s: Service = {};
    for (const part of spec.split(',')) {
      const [port, proto] = part.split('/');
      if (proto !== 'udp') s.tcp = Number(port);
      if (proto !== 'tcp') s.udp = Number(port);
    }
    return [name, s];
  }),
);

/** IP protocol numbers by name (for `proto \\NAME`), aliases included. */
export const IP_PROTOCOLS: ReadonlyMap<string, number> = new Map(
  PROTOCOL_TEXT.split(/\s+/).filter(Boolean).map((entry) => {
    const at = entry.lastIndexOf(':');
    return [entry.slice(0, at), Number(entry.slice(at + 1))];
  }),
);
