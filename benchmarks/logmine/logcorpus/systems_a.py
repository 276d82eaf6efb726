"""Distributed storage and compute: HDFS, Hadoop, Spark, Zookeeper, OpenStack.

A template line is ``weight|level|component|message``; ``{...}`` are variables.
"""

from __future__ import annotations

HDFS = """\
30|INFO|dfs.DataNode$PacketResponder|PacketResponder {small} for block {blk} terminating
25|INFO|dfs.DataNode$PacketResponder|Received block {blk} of size {int} from /{ip}
25|INFO|dfs.DataNode$DataXceiver|Receiving block {blk} src: /{ipport} dest: /{ipport}
20|INFO|dfs.FSNamesystem|BLOCK* NameSystem.addStoredBlock: blockMap updated: {ipport} is added to {blk} size {int}
15|INFO|dfs.FSNamesystem|BLOCK* NameSystem.allocateBlock: {path}. {blk}
10|INFO|dfs.FSDataset|Deleting block {blk} file {path}
8|INFO|dfs.FSNamesystem|BLOCK* NameSystem.delete: {blk} is added to invalidSet of {ipport}
5|INFO|dfs.DataBlockScanner|Verification succeeded for {blk}
4|WARN|dfs.DataNode$DataXceiver|{ipport}:Got exception while serving {blk} to /{ip}:
3|INFO|dfs.DataNode$DataXceiver|{ipport} Served block {blk} to /{ip}
2|INFO|dfs.DataNode|{ipport} Starting thread to transfer block {blk} to {ipport}
2|INFO|dfs.FSNamesystem|BLOCK* ask {ipport} to replicate {blk} to datanode(s) {ipport}
2|INFO|dfs.DataNode$PacketResponder|PacketResponder {blk} {small} Exception java.io.InterruptedIOException: Interruped while waiting for IO on channel java.nio.channels.SocketChannel[connected local=/{ipport} remote=/{ipport}]. {int} millis timeout left.
1|WARN|dfs.DataNode$DataXceiver|writeBlock {blk} received exception java.io.IOException: Could not read from stream
1|INFO|dfs.DataNode$BlockReceiver|Exception in receiveBlock for block {blk} java.io.EOFException
1|INFO|dfs.DataNode$PacketResponder|PacketResponder {blk} {small} Exception java.net.SocketTimeoutException: {int} millis timeout while waiting for channel to be ready for read.
"""

HADOOP = """\
20|INFO|org.apache.hadoop.mapred.TaskAttemptListenerImpl|Progress of TaskAttempt {attempt} is : {float}
12|INFO|org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl|{attempt} TaskAttempt Transitioned from {choice:NEW|UNASSIGNED|ASSIGNED|RUNNING} to {choice:UNASSIGNED|ASSIGNED|RUNNING|SUCCEEDED}
8|INFO|org.apache.hadoop.mapreduce.v2.app.job.impl.TaskImpl|task_{int}_{int}_m_{int} Task Transitioned from {choice:NEW|SCHEDULED|RUNNING} to {choice:SCHEDULED|RUNNING|SUCCEEDED}
6|INFO|org.apache.hadoop.mapred.TaskAttemptListenerImpl|JVM with ID : jvm_{int}_{int}_m_{int} asked for a task
6|INFO|org.apache.hadoop.mapred.TaskAttemptListenerImpl|JVM with ID: jvm_{int}_{int}_m_{int} given task: {attempt}
5|INFO|org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator|Assigned container container_{int}_{int}_{int}_{int} to {attempt}
5|INFO|org.apache.hadoop.yarn.util.RackResolver|Resolved {host} to /default-rack
4|INFO|org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator|After Scheduling: PendingReds:{int} ScheduledMaps:{int} ScheduledReds:{int} AssignedMaps:{int} AssignedReds:{int} CompletedMaps:{int} CompletedReds:{int} ContAlloc:{int} ContRel:{int} HostLocal:{int} RackLocal:{int}
3|INFO|org.apache.hadoop.mapreduce.v2.app.launcher.ContainerLauncherImpl|Processing the event EventType: CONTAINER_REMOTE_LAUNCH for container container_{int}_{int}_{int}_{int} taskAttempt {attempt}
3|INFO|org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl|Diagnostics report from {attempt}: Container killed by the ApplicationMaster.
2|WARN|org.apache.hadoop.hdfs.LeaseRenewer|Failed to renew lease for [DFSClient_NONMAPREDUCE_{int}_{small}] for {int} seconds.  Will retry shortly ...
2|ERROR|org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator|ERROR IN CONTACTING RM.
2|INFO|org.apache.hadoop.ipc.Client|Retrying connect to server: {host}/{ipport}. Already tried {small} time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries={int}, sleepTime={int} MILLISECONDS)
2|INFO|org.apache.hadoop.mapreduce.v2.app.MRAppMaster|Created MRAppMaster for application appattempt_{int}_{int}_{int}
1|INFO|org.apache.hadoop.mapreduce.v2.app.MRAppMaster|Executing with tokens:
1|INFO|org.apache.hadoop.mapreduce.v2.app.job.impl.JobImpl|Number of reduces for job {job} = {small}
"""

SPARK = """\
20|INFO|storage.BlockManager|Found block rdd_{int}_{int} locally
15|INFO|storage.MemoryStore|Block broadcast_{int} stored as values in memory (estimated size {size}, free {size})
12|INFO|storage.MemoryStore|Block broadcast_{int}_piece{small} stored as bytes in memory (estimated size {size}, free {size})
10|INFO|executor.Executor|Running task {float} in stage {float} (TID {int})
10|INFO|executor.Executor|Finished task {float} in stage {float} (TID {int}). {int} bytes result sent to driver
6|INFO|broadcast.TorrentBroadcast|Started reading broadcast variable {int}
6|INFO|broadcast.TorrentBroadcast|Reading broadcast variable {int} took {int} ms
5|INFO|spark.CacheManager|Partition rdd_{int}_{int} not found, computing it
4|INFO|executor.CoarseGrainedExecutorBackend|Got assigned task {int}
3|INFO|python.PythonRunner|Times: total = {int}, boot = {int}, init = {int}, finish = {int}
2|INFO|spark.SecurityManager|Changing view acls to: {user}
2|INFO|spark.SecurityManager|Changing modify acls to: {user}
2|INFO|spark.SecurityManager|SecurityManager: authentication disabled; ui acls disabled; users with view permissions: Set({user}); users with modify permissions: Set({user})
1|INFO|executor.CoarseGrainedExecutorBackend|Registered signal handlers for [TERM, HUP, INT]
1|INFO|util.Utils|Successfully started service 'sparkExecutorActorSystem' on port {port}.
1|INFO|storage.DiskBlockManager|Created local directory at {path}
1|ERROR|executor.CoarseGrainedExecutorBackend|RECEIVED SIGNAL 15: SIGTERM
1|INFO|storage.BlockManager|Removing RDD {int}
"""

ZOOKEEPER = """\
15|INFO|NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197|Accepted socket connection from /{ipport}
14|INFO|NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1001|Closed socket connection for client /{ipport} which had sessionid {hex}
10|WARN|NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@349|caught end of stream exception
8|INFO|NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:ZooKeeperServer@839|Client attempting to establish new session at /{ipport}
8|INFO|CommitProcessor:{small}:ZooKeeperServer@595|Established session {hex} with negotiated timeout {int} for client /{ipport}
5|INFO|SessionTracker:ZooKeeperServer@325|Expiring session {hex}, timeout of {int}ms exceeded
5|INFO|ProcessThread(sid:{small} cport:-1)::PrepRequestProcessor@476|Processed session termination for sessionid: {hex}
4|WARN|SendWorker:{int}:QuorumCnxManager$SendWorker@688|Send worker leaving thread
4|WARN|RecvWorker:{int}:QuorumCnxManager$RecvWorker@762|Connection broken for id {small}, my id = {small}, error = {small}
3|INFO|WorkerReceiver[myid={small}]:FastLeaderElection@542|Notification: {small} (n.leader), {hex} (n.zxid), {hex} (n.round), {choice:LOOKING|FOLLOWING|LEADING} (n.state), {small} (n.sid), {hex} (n.peerEPoch), {choice:LOOKING|FOLLOWING} (my state)
3|INFO|QuorumPeer[myid={small}]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774|Notification time out: {int}
2|WARN|QuorumPeer[myid={small}]/0:0:0:0:0:0:0:0:2181:QuorumCnxManager@368|Cannot open channel to {small} at election address /{ipport}
2|INFO|ProcessThread(sid:{small} cport:-1)::PrepRequestProcessor@627|Got user-level KeeperException when processing sessionid:{hex} type:{choice:create|delete|setData} cxid:{hex} zxid:{hex} txntype:-1 reqpath:n/a Error Path:{path} Error:KeeperErrorCode = NodeExists for {path}
1|INFO|QuorumPeer[myid={small}]/0:0:0:0:0:0:0:0:2181:QuorumPeer@670|{choice:LOOKING|FOLLOWING|LEADING}
"""

OPENSTACK = """\
25|INFO|nova.osapi_compute.wsgi.server|[req-{uuid} {hexid} {hexid} - - -] {ip} "GET /v2/{hexid}/servers/detail HTTP/1.1" status: 200 len: {int} time: {float}
8|INFO|nova.osapi_compute.wsgi.server|[req-{uuid} {hexid} {hexid} - - -] {ip} "POST /v2/{hexid}/os-server-external-events HTTP/1.1" status: 200 len: {int} time: {float}
6|INFO|nova.osapi_compute.wsgi.server|[req-{uuid} {hexid} {hexid} - - -] {ip} "DELETE /v2/{hexid}/servers/{uuid} HTTP/1.1" status: 204 len: {int} time: {float}
3|INFO|nova.compute.manager|[req-{uuid} - - - - -] [instance: {uuid}] VM Started (Lifecycle Event)
3|INFO|nova.compute.manager|[req-{uuid} - - - - -] [instance: {uuid}] VM Stopped (Lifecycle Event)
3|INFO|nova.compute.manager|[req-{uuid} - - - - -] [instance: {uuid}] VM Paused (Lifecycle Event)
3|INFO|nova.compute.manager|[req-{uuid} - - - - -] [instance: {uuid}] VM Resumed (Lifecycle Event)
8|INFO|nova.compute.resource_tracker|[req-{uuid} - - - - -] Final resource view: name={host} phys_ram={int}MB used_ram={int}MB phys_disk={int}GB used_disk={int}GB total_vcpus={int} used_vcpus={int} pci_stats=[]
6|INFO|nova.compute.claims|[req-{uuid} {hexid} {hexid} - - -] [instance: {uuid}] Total memory: {int} MB, used: {float} MB
6|INFO|nova.compute.claims|[req-{uuid} {hexid} {hexid} - - -] [instance: {uuid}] Claim successful
5|INFO|nova.compute.manager|[req-{uuid} {hexid} {hexid} - - -] [instance: {uuid}] Took {float} seconds to spawn the instance on the hypervisor.
5|INFO|nova.compute.manager|[req-{uuid} {hexid} {hexid} - - -] [instance: {uuid}] Took {float} seconds to build instance.
4|INFO|nova.virt.libvirt.driver|[-] [instance: {uuid}] Instance spawned successfully.
4|INFO|nova.virt.libvirt.imagecache|[req-{uuid} - - - - -] image {uuid} at ({path}): checking
3|INFO|nova.compute.manager|[req-{uuid} - - - - -] [instance: {uuid}] During sync_power_state the instance has a pending task (spawning). Skip.
3|WARNING|nova.compute.manager|[req-{uuid} - - - - -] While synchronizing instance power states, found {small} instances in the database and {small} instances on the hypervisor.
2|INFO|nova.metadata.wsgi.server|{ip},{ip} "GET /openstack/2013-10-17/meta_data.json HTTP/1.1" status: 200 len: {int} time: {float}
2|INFO|nova.virt.libvirt.driver|[req-{uuid} {hexid} {hexid} - - -] [instance: {uuid}] Deleting instance files {path}
1|ERROR|nova.compute.manager|[req-{uuid} - - - - -] [instance: {uuid}] Instance failed to spawn
"""
