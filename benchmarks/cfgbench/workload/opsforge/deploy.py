# cfgbench workload for opsforge (see ../../README.md, "Workload spec").
# Host and group vars come from the same inventory Ansible uses (../ansible/inventory.yml).
from opsforge.deploy import files, server


def deploy(host):
    v = host.vars
    base = f"{v['cfgbench_root']}/hosts/{host.name}"

    for i in range(1, 21):
        files.directory(host, f"{base}/d{i:02d}", mode="0755", name=f"dir d{i:02d}")

    for i in range(1, 21):
        files.template(
            host,
            "../templates/app.conf.j2",
            f"{base}/d{i:02d}/app.conf",
            mode="0644",
            file_index=i,
            name=f"template d{i:02d}/app.conf",
        )

    for i in range(1, 21):
        files.line(
            host,
            f"{base}/settings.ini",
            f"opt{i:02d} = {v['host_name']}-{i:02d}",
            regexp=f"^opt{i:02d} = ",
            mode="0644",
            name=f"line opt{i:02d}",
        )

    for n, cmd in enumerate(
        [
            f"test -d {base}/d20",
            f"ls {base} | wc -l",
            f"grep -c '^opt' {base}/settings.ini",
            f"cat {base}/d01/app.conf > /dev/null",
            "uname -a",
        ],
        1,
    ):
        server.shell(host, cmd, changed=False, name=f"shell {n}")
