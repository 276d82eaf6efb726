"""Supercomputers, operating systems, mobile and desktop apps.

A template line is ``weight|level|component|message``; ``{...}`` are variables.
"""

from __future__ import annotations

BGL = """\
30|INFO|KERNEL|instruction cache parity error corrected
20|INFO|KERNEL|generating core.{int}
10|INFO|KERNEL|CE sym {int}, at {hex}, mask {hex}
8|FATAL|KERNEL|data TLB error interrupt
6|INFO|KERNEL|{int} double-hummer alignment exceptions
6|FATAL|APP|ciod: failed to read message prefix on control stream (CioStream socket to {ipport}
5|INFO|KERNEL|total of {int} ddr error(s) detected and corrected
4|FATAL|KERNEL|machine check interrupt (bit={hex}): L2 dcache unit data parity error
4|ERROR|DISCOVERY|Node card VPD check: {choice:U01|U11} node in processor card slot {choice:J08|J17} do not match. VPD ecid {hexid}, found {hexid}
3|INFO|KERNEL|{int} L3 EDRAM error(s) (dcr {hex}) detected and corrected
3|FATAL|KERNEL|rts: kernel terminated for reason {int}
2|SEVERE|MMCS|idoproxydb hit ASSERT condition: ASSERT expression=0 Source file=idotransportmgr.cpp Source line={int} Function=int IdoTransportMgr::SendPacket(IdoUdpMgr*, BglCtlPavTrace*)
2|FATAL|KERNEL|Lustre mount FAILED : bglio{int} : block_id : location
2|INFO|KERNEL|program interrupt: fp cr field .............{small}
1|FATAL|APP|ciod: Error loading {path}: invalid or missing program image, No such file or directory
1|FATAL|KERNEL|external input interrupt (unit={hex} bit={hex}): uncorrectable torus error
"""

HPC = """\
20|state_change.unavailable|unix.hw|Component State Change: Component \\042{choice:alt0|alt1|scsi0}\\042 is in the unavailable state (HWID={int})
15|boot|node|Node {int} has detected an available network connection on network {ip} via interface {choice:alt0|eth0}
10|boot_cmd|node|Targeting domains:node-D{small} and nodes:node-[{int}-{int}] child of command {int}
10|running|node|ClusterFileSystem: There is no server for ServerFileSystem domain {word}
8|error|node|Link error on broadcast tree Interconnect-0T00:00:{small}:{small}
6|failed|gige|Command has completed successfully
5|unavailable|node|node-{int} detected unavailable interconnect
4|PSU|node|Fan speeds ( {list} )
3|temp|node|Temperature ({int}C) exceeds warning threshold
2|boot|node|boot command Acknowledged
2|halt|node|halt command in progress
1|ambient|node|ambient={int}
"""

THUNDERBIRD = """\
25|-|kernel|[KERNEL_IB][ib_mad_dispatch][{path}:{int}]Failed to process MAD: {hex}.
20|-|crond(pam_unix)|session opened for user root by (uid=0)
20|-|crond(pam_unix)|session closed for user root
15|-|sshd|Accepted publickey for {user} from {ip} port {port} ssh2
10|-|kernel|Losing some ticks... checking if CPU frequency changed.
6|-|ntpd|synchronized to {ip}, stratum {small}
5|-|ntpd|time reset {float} s
3|-|kernel|e1000: eth{small}: e1000_watchdog: NIC Link is Up {int} Mbps Full Duplex
2|-|kernel|e1000: eth{small}: e1000_watchdog: NIC Link is Down
4|-|pbs_mom|Connection refused (111) in open_demux, open_demux: connect {ipport}
3|-|kernel|ib_sm_sweep.c:{int}: Detected an error in sweep
3|-|smartd|Device: /dev/sd{choice:a|b|c}, SMART Prefailure Attribute: {small} Raw_Read_Error_Rate changed from {int} to {int}
2|-|dhcpd|DHCPREQUEST for {ip} from {mac} via eth{small}
2|-|dhcpd|DHCPACK on {ip} to {mac} via eth{small}
1|-|postfix/postdrop|warning: unable to look up public/pickup: No such file or directory
"""

WINDOWS = """\
25|Info|CBS|Loaded Servicing Stack v{float}.{int} with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_{hexid}_{float}.{int}_none_{hexid}\\cbscore.dll
20|Info|CSI|{hex}@{int}/{small}/{int}:{time}.{int} WcpInitialize (wcp.dll version {float}.{int}) called (stack @{hex} @{hex} @{hex} @{hex} @{hex} @{hex})
15|Info|CBS|SQM: Initializing online with Windows opt-in: False
15|Info|CBS|SQM: Cleaning up report files older than {small} days.
10|Info|CBS|SQM: Requesting upload of all unsent reports.
10|Info|CBS|SQM: Failed to start upload with file pattern: C:\\Windows\\servicing\\sqm\\*_std.sqm, flags: {hex} [HRESULT = {hex} - E_FAIL]
8|Info|CBS|Ending TrustedInstaller initialization.
8|Info|CBS|Starting the TrustedInstaller main loop.
6|Info|CBS|TrustedInstaller service starts successfully.
5|Info|CBS|Session: {int}_{int} initialized by client WindowsUpdateAgent.
4|Info|CBS|Read out cached package applicability for package: Package_for_KB{int}~31bf3856ad364e35~amd64~~{float}.{int}, ApplicableState: {int}, CurrentState:{int}
3|Warning|CBS|Unrecognized packageExtended attribute.
2|Info|CBS|Failed to get next element [HRESULT = {hex} - ERROR_NO_MORE_ITEMS]
1|Error|CBS|Failed to internally open package. [HRESULT = {hex} - CBS_E_INVALID_PACKAGE]
"""

LINUX = """\
25|-|sshd(pam_unix)|authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost={host}
15|-|sshd(pam_unix)|authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost={host}  user={user}
12|-|sshd(pam_unix)|check pass; user unknown
10|-|su(pam_unix)|session opened for user {user} by (uid=0)
10|-|su(pam_unix)|session closed for user {user}
8|-|ftpd|connection from {ip} ({host}) at {choice:Sun|Mon|Tue} {choice:Jun|Jul} {day} {time} 2005
6|-|kernel|klogd 1.4.1, log source = /proc/kmsg started.
5|-|syslogd 1.4.1|restart.
5|-|logrotate|ALERT exited abnormally with [1]
4|-|cups|cupsd shutdown succeeded
4|-|cups|cupsd startup succeeded
3|-|xinetd|xinetd startup succeeded
3|-|gpm|gpm shutdown succeeded
2|-|kernel|Out of Memory: Killed process {int} ({word}).
2|-|snmpd|Received SNMP packet(s) from {ip}
2|-|named|lame server resolving '{host}' (in '{host}'?): {ip}#{int}
1|-|kernel|audit({float}:{int}): initialized
"""

OPENSSH = """\
20|-|sshd|Invalid user {user} from {ip}
20|-|sshd|input_userauth_request: invalid user {user} [preauth]
20|-|sshd|Failed password for invalid user {user} from {ip} port {port} ssh2
18|-|sshd|Failed password for {user} from {ip} port {port} ssh2
15|-|sshd|pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}
12|-|sshd|pam_unix(sshd:auth): check pass; user unknown
12|-|sshd|Received disconnect from {ip}: 11: Bye Bye [preauth]
10|-|sshd|Connection closed by {ip} [preauth]
8|-|sshd|reverse mapping checking getaddrinfo for {host} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!
6|-|sshd|Accepted password for {user} from {ip} port {port} ssh2
6|-|sshd|pam_unix(sshd:session): session opened for user {user} by (uid=0)
6|-|sshd|pam_unix(sshd:session): session closed for user {user}
5|-|sshd|PAM {small} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}
4|-|sshd|Disconnecting: Too many authentication failures for {user} [preauth]
4|-|sshd|error: Received disconnect from {ip}: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]
3|-|sshd|message repeated {small} times: [ Failed password for {user} from {ip} port {port} ssh2]
3|-|sshd|Did not receive identification string from {ip}
2|-|sshd|Address {ip} maps to {host}, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!
2|-|sshd|fatal: Read from socket failed: Connection reset by peer [preauth]
1|-|sshd|Bad protocol version identification '{word}' from {ip} port {port}
"""

ANDROID = """\
20|D|PowerManagerService|acquire lock={int}, flags={hex}, tag="{choice:RILJ|WindowManager|AudioMix|*alarm*}", name={pkg}, ws=null, uid={int}, pid={int}
20|D|PowerManagerService|release:lock={int}, flg={hex}, tag="{choice:RILJ|WindowManager|AudioMix|*alarm*}", name={pkg}, ws=null, uid={int}, pid={int}
15|D|DisplayPowerController|Animating brightness: target={int}, rate={int}
12|I|ActivityManager|Start proc {int}:{pkg}/u0a{int} for {choice:activity|service|broadcast} {pkg}/.{camel}
10|V|WindowManager|Skipping AppWindowToken{{hex} token=Token{{hex} ActivityRecord{{hex} u0 {pkg}/.{camel} t{int}}}} -- going to hide
8|D|WindowManager|printFreezingDisplayLogsopening app wtoken = AppWindowToken{{hex} token=Token{{hex} ActivityRecord{{hex} u0 {pkg}/.{camel} t{int}}}}, allDrawn= {choice:true|false}, startingDisplayed =  {choice:true|false}, startingMoved =  false, isRelaunching =  false
8|I|ActivityManager|Killing {int}:{pkg}/u0a{int} (adj {int}): empty #{int}
6|W|ActivityManager|Unable to start service Intent {{ act={pkg}.{camel} pkg={pkg} }} U=0: not found
5|E|Sensors|Sensor {int} not found
4|D|PhoneStatusBar|disable<e i a s b h r c s > disable2<q i n >
4|I|PowerManager_screenOn|DisplayPowerStatesetColorFadeLevel: level={float}
3|D|SendBroadcastPermission|action:android.intent.action.{choice:SCREEN_ON|SCREEN_OFF|TIME_TICK}, mPermissionType:0
2|E|WifiStateMachine|ConnectedState !CMD_SET_SUSPEND_OPT_ENABLED !WIFI_AP_STATE_CHANGED msg.what={int}
2|D|ActivityManager|cleanUpApplicationRecord -- {int}
1|I|ActivityManager|Process {pkg} (pid {int}) has died
"""

HEALTHAPP = """\
30|-|Step_LSC|onStandStepChanged {int}
20|-|Step_LSC|onExtend:{int} {int} {int} {int}
15|-|Step_SPUtils|setTodayTotalDetailSteps={int}##{int}##{int}##{int}##{int}##{int}
12|-|Step_LSC|processHandleBroadcastAction action:android.intent.action.{choice:SCREEN_ON|SCREEN_OFF|TIME_TICK}
10|-|Step_StandReportReceiver|onReceive action: android.intent.action.{choice:SCREEN_ON|SCREEN_OFF|TIME_TICK}
8|-|Step_StandStepCounter|flush sensor data
8|-|Step_SPUtils|getTodayTotalDetailSteps = {int}##{int}##{int}##{int}##{int}##{int}
6|-|HiH_HiHealthDataInsertStore|saveOneDetailData():  type = {int} value = {int} insertResult = {int}
5|-|Step_ExtSDM|calculateCaloriesWithCache totalCalories={int}
5|-|Step_ExtSDM|calculateAltitudeWithCache totalAltitude={int}
4|-|Step_LSC|REPORT : {int} {int} {int} {int}
3|-|HiH_DataStatManager|new date ={int}, type={int},{int},{int},old={int}
2|-|Step_NotificationUtil|new step ={int}
2|-|HiH_HiSyncUtil|checkInsertStatus stepSum or calorieSum is enough
1|-|HiH_HiBroadcastUtil|sendSyncFailedBroadcast
"""

APACHE = """\
30|notice|-|jk2_init() Found child {int} in scoreboard slot {small}
25|notice|-|workerEnv.init() ok {path}
15|error|-|mod_jk child workerEnv in error state {small}
6|error|-|[client {ip}] Directory index forbidden by rule: {path}
5|error|-|jk2_init() Can't find child {int} in scoreboard
3|error|-|[client {ip}] File does not exist: {path}
2|notice|-|Digest: generating secret for digest authentication ...
2|notice|-|Apache/2.0.49 (Fedora) configured -- resuming normal operations
1|error|-|mod_jk child init {small} -2
1|notice|-|caught SIGTERM, shutting down
"""

PROXIFIER = """\
30|-|{app}|{hostport} close, {int} bytes sent, {int} bytes received, lifetime {dur}
20|-|{app}|{hostport} open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS
15|-|{app}|{hostport} close, {int} bytes ({size}) sent, {int} bytes ({size}) received, lifetime {dur}
10|-|{app}|{hostport} open through proxy proxy.cse.cuhk.edu.hk:5070 SOCKS5
5|-|{app}|{hostport} error : Could not connect through proxy proxy.cse.cuhk.edu.hk:5070 - Proxy server cannot establish a connection with the target, status code {int}
3|-|{app}|{hostport} error : A connection request was canceled before the completion.
2|-|{app}|{hostport} close, {int} bytes sent, {int} bytes ({size}) received, lifetime {dur}
"""

MAC = """\
15|-|kernel[0]|ARPT: {float}: wl0: wl_update_tcpkeep_seq: Original Seq: {int}, Ack: {int}, Win size: {int}
12|-|kernel[0]|ARPT: {float}: wl0: MDNS: IPV4 Addr: {ip}
10|-|kernel[0]|IOThunderboltSwitch<0>({hex})::listenerCallback - Thunderbolt HPD packet for route = {hex} port = {small} unplug = {small}
8|-|kernel[0]|AppleCamIn::systemWakeCall - messageType = {hex}
8|-|com.apple.CDScheduler[{int}]|Thermal pressure state: {small} Memory pressure state: {small}
6|-|QQ[{int}]|FA||Url||taskID[{int}] dealloc
6|-|kernel[0]|Sandbox: {choice:com.apple.Addres|com.apple.WebKit|mdworker}({int}) deny(1) network-outbound {path}
3|-|sharingd[{int}]|{time}.{int} : BTLE scanner Powered On
2|-|sharingd[{int}]|{time}.{int} : BTLE scanner Powered Off
5|-|com.apple.xpc.launchd[1]|(com.apple.xpc.launchd.domain.pid.WebContent.{int}) Service exited with abnormal code: {small}
4|-|kernel[0]|Wake reason: {choice:RTC (Alarm)|EC.LidOpen (User)|ARPT (Network)}
4|-|corecaptured[{int}]|CCFile::captureLogRun Skipping current file Dir file [{time}.{int}]-{choice:AirPortBrcm4360_Logs|CCLogTap}-{int}.txt, Current File [{time}.{int}]-{choice:AirPortBrcm4360_Logs|CCLogTap}-{int}.txt
3|-|symptomsd[{int}]|__73-[NetworkAnalyticsEngine observeValueForKeyPath:ofObject:change:context:]_block_invoke unexpected switch value {small}
3|-|Google Chrome Helper[{int}]|Couldn't set selectedTextBackgroundColor from default ()
2|-|kernel[0]|en0: BSSID changed to {mac}
2|-|mDNSResponder[{int}]|mDNS_DeregisterInterface: Frequent transitions for interface en0 ({ip})
1|-|loginwindow[{int}]|CGSConnectionByID: {int} is not a valid connection ID.
"""
