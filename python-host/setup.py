"""Build hook: put the compiled WebAssembly components into the package.

The components come from the Rust workspace one folder up. When building from a
checkout, cargo builds them for wasm32-wasip2 first. An sdist carries copies in
src/ldap_hooks/components, so building a wheel from it needs no Rust toolchain.
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent
COMPONENTS = HERE / "src" / "ldap_hooks" / "components"
GUESTS = {
    "ldap-hooks-hook": "ldap_hooks_hook.wasm",
    "ldap-hooks-default-rules": "ldap_hooks_default_rules.wasm",
}


def build_components():
    """Build the guest crates with cargo and copy the .wasm files into the package."""
    target_dir = Path(os.environ.get("LDAP_HOOKS_GUEST_TARGET_DIR", WORKSPACE / "target" / "guest"))
    command = ["cargo", "build", "--release", "--locked", "--target", "wasm32-wasip2", "--target-dir", str(target_dir)]
    for package in GUESTS:
        command += ["-p", package]
    subprocess.run(command, cwd=WORKSPACE, check=True)

    COMPONENTS.mkdir(parents=True, exist_ok=True)
    for file_name in GUESTS.values():
        shutil.copyfile(target_dir / "wasm32-wasip2" / "release" / file_name, COMPONENTS / file_name)


class BuildWithComponents(build_py):
    def run(self):
        if (WORKSPACE / "Cargo.toml").exists():
            build_components()
        missing = [name for name in GUESTS.values() if not (COMPONENTS / name).exists()]
        if missing:
            raise RuntimeError(
                f"the components {', '.join(missing)} are missing from {COMPONENTS}; build the package "
                "from the ldap-hooks repository, where cargo can compile them"
            )
        super().run()


setup(cmdclass={"build_py": BuildWithComponents})
