"""A small web-app layout: the example `scripts/demo.sh` applies to the lab.

opsforge apply examples/webapp/deploy.py -i INVENTORY --check --diff
"""

from opsforge.deploy import files, server


def deploy(host):
    root = host.vars.get("app_root", "/tmp/opsforge-webapp") + f"/{host.name}"
    port = 8000 + int(host.name.removeprefix("lab") or 0)

    for sub in ("releases", "shared", "shared/log"):
        files.directory(host, f"{root}/{sub}", mode="0755")
    files.template(
        host, "app.ini.j2", f"{root}/shared/app.ini", mode="0640", port=port, notify="reload"
    )
    files.line(host, f"{root}/shared/env", f"APP_PORT={port}", regexp="^APP_PORT=", mode="0644")
    files.block(host, f"{root}/shared/env", "LOG_LEVEL=info\nWORKERS=2", mode="0644")
    server.shell(host, f"test -s {root}/shared/app.ini", changed=False, name="config is there")

    @host.handler("reload")
    def _(h):
        server.shell(h, f"date +%s > {root}/shared/reloaded-at", name="reload the app")
