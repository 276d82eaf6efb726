"""A second labelled set, written after the miner's defaults were chosen and never
used to change them: other systems of the same kinds, other message shapes.

A template line is ``weight|level|component|message``; ``{...}`` are variables.
"""

from __future__ import annotations

CEPH = """\
20|INFO|osd.{small}|{small}.{hex} scrub starts
20|INFO|osd.{small}|{small}.{hex} scrub ok
10|WARN|osd.{small}|slow request {float} seconds old, received at {time}.{int}: osd_op(client.{int}.0:{int} {small}.{hex} {hexid} [write {int}~{int}] snapc 0=[] ondisk+write e{int}) currently waiting for subops from {list}
8|INFO|mon.{word}|pgmap v{int}: {int} pgs: {int} active+clean; {size} data, {size} used, {size} / {size} avail; {size}/s rd, {size}/s wr, {int} op/s
6|INFO|mon.{word}|osd.{small} marked itself down
6|INFO|mon.{word}|osd.{small} {ipport}/{int} boot
5|ERR|osd.{small}|{small}.{hex} shard {small}: soid {small}:{hexid}:::rbd_data.{hexid}:head candidate had a read error
4|INFO|mon.{word}|mon.{word} calling new monitor election
3|WARN|mon.{word}|Health check failed: {small} osds down (OSD_DOWN)
3|INFO|mon.{word}|Health check cleared: OSD_DOWN (was: {small} osds down)
2|INFO|osd.{small}|heartbeat_check: no reply from {ipport} osd.{small} since back {time} front {time} (cutoff {time})
"""

SLURM = """\
25|-|slurmctld|_job_complete: JobId={int} WEXITSTATUS {small}
20|-|slurmctld|_job_complete: JobId={int} done
15|-|slurmctld|sched: Allocate JobId={int} NodeList=node[{int}-{int}] #CPUs={int} Partition={choice:batch|debug|gpu|long}
10|-|slurmctld|_slurm_rpc_submit_batch_job: JobId={int} InitPrio={int} usec={int}
8|-|slurmd|launch task {int}.{small} request from UID:{int} GID:{int} HOST:{ip} PORT:{port}
8|-|slurmd|[{int}.batch] done with job
5|-|slurmctld|_slurm_rpc_kill_job: REQUEST_KILL_JOB JobId={int} uid {int}
4|-|slurmctld|error: Nodes node{int} not responding
3|-|slurmctld|Resending TERMINATE_JOB request JobId={int} Nodelist=node{int}
2|-|slurmctld|update_node: node node{int} state set to {choice:DRAIN|IDLE|DOWN}
2|-|slurmd|error: *** JOB {int} ON node{int} CANCELLED AT {date}T{time} DUE TO TIME LIMIT ***
"""

DMESG = """\
20|-|kernel|[UFW BLOCK] IN=eth0 OUT= MAC={mac}:{mac}:08:00 SRC={ip} DST={ip} LEN={int} TOS=0x00 PREC=0x00 TTL={int} ID={int} PROTO={choice:TCP|UDP} SPT={port} DPT={port} WINDOW={int} RES=0x00 SYN URGP=0
10|-|kernel|usb {small}-{small}: new high-speed USB device number {small} using xhci_hcd
10|-|kernel|usb {small}-{small}: USB disconnect, device number {small}
8|-|kernel|EXT4-fs (sda{small}): mounted filesystem with ordered data mode. Opts: (null)
8|-|kernel|{word}[{int}]: segfault at {hex} ip {hex} sp {hex} error {small} in {word}.so[{hex}+{hex}]
6|-|kernel|Out of memory: Killed process {int} ({word}) total-vm:{int}kB, anon-rss:{int}kB, file-rss:{int}kB, shmem-rss:{int}kB
5|-|kernel|e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx
5|-|kernel|e1000e: eth0 NIC Link is Down
4|-|kernel|ata{small}.00: failed command: READ FPDMA QUEUED
4|-|kernel|TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies.  Check SNMP counters.
3|-|kernel|audit: type=1400 audit({float}:{int}): apparmor="DENIED" operation="open" profile="{path}" name="{path}" pid={int} comm="{word}" requested_mask="r" denied_mask="r" fsuid={int} ouid=0
"""

IOS = """\
20|-|SpringBoard({int})|[{camel}] Application {pkg} became {choice:foreground|background|suspended}
15|-|locationd({int})|Client {pkg} disconnected
15|-|locationd({int})|{pkg}: authorization status changed to {small}
10|-|kernel({int})|AppleKeyStore: operation failed (pid: {int} sel: {small} ret: {hex} '{int}')
8|-|backboardd({int})|Brightness changed to {float}
6|-|wifid({int})|WiFi:[{float}]: Roam event to BSSID {mac} rssi {int}
6|-|mediaserverd({int})|-CMSessionMgr- CMSessionMgrHandleApplicationStateChange: Client {pkg} with pid '{int}' is now {choice:Foreground Running|Background Suspended|Background Running}
4|-|CommCenter({int})|#I Signal strength {int} dBm, bars {small}
3|-|assertiond({int})|Deleted job with label: UIKitApplication:{pkg}[{hex}][rb-legacy]
"""

NGINX = """\
20|error|-|{int}#{int}: *{int} open() "{path}" failed (2: No such file or directory), client: {ip}, server: {host}, request: "GET {path} HTTP/1.1", host: "{host}"
15|error|-|{int}#{int}: *{int} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: {host}, request: "{choice:GET|POST} {path} HTTP/1.1", upstream: "http://{ipport}{path}", host: "{host}"
10|warn|-|{int}#{int}: *{int} an upstream response is buffered to a temporary file {path} while reading upstream, client: {ip}, server: {host}, request: "GET {path} HTTP/1.1", upstream: "http://{ipport}{path}", host: "{host}"
8|error|-|{int}#{int}: *{int} connect() failed (111: Connection refused) while connecting to upstream, client: {ip}, server: {host}, request: "GET {path} HTTP/1.1", upstream: "http://{ipport}{path}", host: "{host}"
6|notice|-|{int}#{int}: signal process started
5|error|-|{int}#{int}: *{int} limiting requests, excess: {float} by zone "{word}", client: {ip}, server: {host}, request: "GET {path} HTTP/1.1", host: "{host}"
4|crit|-|{int}#{int}: *{int} SSL_do_handshake() failed (SSL: error:{hex}:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:SSL alert number {int}) while SSL handshaking, client: {ip}, server: {ipport}
2|emerg|-|{int}#{int}: bind() to {ipport} failed (98: Address already in use)
"""

SQUID = """\
30|-|-|{int}.{int} {int} {ip} TCP_{choice:MISS|HIT|REFRESH_MODIFIED}/{choice:200|304|404} {int} GET {url} - HIER_DIRECT/{ip} {choice:text/html|image/png|application/json}
15|-|-|{int}.{int} {int} {ip} TCP_TUNNEL/200 {int} CONNECT {hostport} - HIER_DIRECT/{ip} -
8|-|-|{int}.{int} {int} {ip} TCP_DENIED/403 {int} GET {url} - HIER_NONE/- text/html
"""

DROPBEAR = """\
25|-|dropbear|Child connection from {ipport}
20|-|dropbear|Exit before auth from <{ipport}>: Exited normally
15|-|dropbear|Bad password attempt for '{user}' from {ipport}
10|-|dropbear|Login attempt for nonexistent user from {ipport}
8|-|dropbear|Password auth succeeded for '{user}' from {ipport}
8|-|dropbear|Exit ({user}) from <{ipport}>: Disconnect received
5|-|dropbear|Pubkey auth succeeded for '{user}' with key md5 {mac}:{mac}:{mac} from {ipport}
4|-|dropbear|Exit before auth from <{ipport}>: Max auth tries reached - user '{user}'
2|-|dropbear|Early exit: Terminated by signal
"""

CINDER = """\
20|INFO|cinder.volume.manager|[req-{uuid} {hexid} {hexid} - - -] Created volume successfully.
15|INFO|cinder.api.openstack.wsgi|[req-{uuid} {hexid} {hexid} - - -] GET http://{ipport}/v3/{hexid}/volumes/{uuid}
12|INFO|cinder.api.openstack.wsgi|[req-{uuid} {hexid} {hexid} - - -] http://{ipport}/v3/{hexid}/volumes/{uuid} returned with HTTP {choice:200|202|404}
8|INFO|cinder.volume.flows.manager.create_volume|[req-{uuid} {hexid} {hexid} - - -] Volume {uuid}: being created as raw with specification: {{'status': u'creating', 'volume_size': {small}, 'volume_name': u'volume-{uuid}'}}
6|INFO|cinder.volume.manager|[req-{uuid} {hexid} {hexid} - - -] Deleted volume successfully.
6|INFO|cinder.volume.manager|[req-{uuid} - - - - -] Updating volume status
4|WARNING|cinder.scheduler.host_manager|[req-{uuid} - - - - -] volume service is down. (host: {host}@lvm)
3|ERROR|oslo_messaging.rpc.server|[req-{uuid} {hexid} {hexid} - - -] Exception during message handling
2|INFO|cinder.volume.manager|[req-{uuid} {hexid} {hexid} - - -] attach volume completed successfully.
"""

KAFKA = """\
20|INFO|kafka.log.Log|[Log partition={word}-{small}, dir={path}] Rolled new log segment at offset {int} in {int} ms.
15|INFO|kafka.log.Log|[Log partition={word}-{small}, dir={path}] Deleting segment {int}
10|INFO|kafka.coordinator.group.GroupCoordinator|[GroupCoordinator {small}]: Preparing to rebalance group {word}-consumers in state PreparingRebalance with old generation {int} (__consumer_offsets-{int}) (reason: Adding new member consumer-{small}-{uuid})
10|INFO|kafka.coordinator.group.GroupCoordinator|[GroupCoordinator {small}]: Stabilized group {word}-consumers generation {int} (__consumer_offsets-{int})
8|INFO|kafka.server.ReplicaFetcherThread|[ReplicaFetcher replicaId={small}, leaderId={small}, fetcherId=0] Truncating partition {word}-{small} to local high watermark {int}
6|WARN|kafka.server.ReplicaFetcherThread|[ReplicaFetcher replicaId={small}, leaderId={small}, fetcherId=0] Error in response for fetch request (type=FetchRequest, replicaId={small}, maxWait=500, minBytes=1, maxBytes=10485760) (kafka.server.ReplicaFetcherThread)
4|INFO|kafka.controller.KafkaController|[Controller id={small}] Processing automatic preferred replica leader election
3|INFO|kafka.cluster.Partition|[Partition {word}-{small} broker={small}] Shrinking ISR from {list} to {list}. Leader: (highWatermark: {int}, endOffset: {int}). Out of sync replicas: (brokerId: {small}, endOffset: {int}).
"""

POSTFIX = """\
20|-|postfix/smtpd|connect from {host}[{ip}]
20|-|postfix/smtpd|disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
15|-|postfix/smtpd|{hexid}: client={host}[{ip}]
15|-|postfix/cleanup|{hexid}: message-id=<{hexid}@{host}>
12|-|postfix/qmgr|{hexid}: from=<{user}@{host}>, size={int}, nrcpt=1 (queue active)
12|-|postfix/smtp|{hexid}: to=<{user}@{host}>, relay={host}[{ip}]:25, delay={float}, delays={float}/{float}/{float}/{float}, dsn=2.0.0, status=sent (250 2.0.0 OK {int})
8|-|postfix/qmgr|{hexid}: removed
6|-|postfix/smtpd|NOQUEUE: reject: RCPT from {host}[{ip}]: 554 5.7.1 <{user}@{host}>: Relay access denied; from=<{user}@{host}> to=<{user}@{host}> proto=ESMTP helo=<{host}>
4|-|postfix/smtpd|warning: hostname {host} does not resolve to address {ip}: Name or service not known
3|-|postfix/anvil|statistics: max connection rate {small}/60s for (smtp:{ip}) at {choice:Mar|Apr} {day} {time}
"""

SYSTEMD = """\
20|-|systemd[1]|Started {choice:Session|Daily apt download activities|Clean php session files|Rotate log files}.
15|-|systemd[1]|Starting {choice:Daily apt download activities|Clean php session files|Rotate log files}...
10|-|systemd-logind[{int}]|New session {int} of user {user}.
10|-|systemd-logind[{int}]|Session {int} logged out. Waiting for processes to exit.
10|-|systemd-logind[{int}]|Removed session {int}.
6|-|systemd[1]|{word}.service: Main process exited, code=exited, status={small}/FAILURE
6|-|systemd[1]|{word}.service: Failed with result 'exit-code'.
4|-|systemd[1]|{word}.service: Scheduled restart job, restart counter is at {small}.
3|-|CRON[{int}]|({user}) CMD (   cd / && run-parts --report /etc/cron.hourly)
3|-|CRON[{int}]|pam_unix(cron:session): session opened for user {user} by (uid=0)
2|-|systemd[1]|Reached target {choice:Timers|Sockets|Basic System|Multi-User System}.
"""

HOLDOUT: dict[str, tuple[str, str]] = {
    "Ceph": (CEPH, "iso"),
    "Slurm": (SLURM, "syslog"),
    "dmesg-syslog": (DMESG, "syslog"),
    "iOS": (IOS, "syslog"),
    "Nginx": (NGINX, "nginx"),
    "Squid": (SQUID, "none"),
    "Dropbear": (DROPBEAR, "syslog"),
    "Cinder": (CINDER, "openstack"),
    "Kafka": (KAFKA, "iso"),
    "Postfix": (POSTFIX, "syslog"),
    "systemd": (SYSTEMD, "syslog"),
}
