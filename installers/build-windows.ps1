# Builds the Windows client: a PyInstaller folder build, then an Inno Setup installer.
# Written, NOT run here (no Windows machine); .github/workflows/installers.yml runs it.
#
#   powershell -File installers\build-windows.ps1 [-UpdateDefaults defaults.json]
#
# Needs: Python 3.11+ with the project installed (pip install -e ".[gui]" "pyinstaller>=6.10"),
# MSVC build tools for the Cython kernels (they build without __int128), Inno Setup 6 (iscc).
param([string]$UpdateDefaults = "")
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
if ($UpdateDefaults) { $env:NEWRAL_UPDATE_DEFAULTS = (Resolve-Path $UpdateDefaults) }
$env:NEWRAL_ONEFILE = "0"   # a folder: no unpacking on every task start
$py = if ($env:PY) { $env:PY } else { "python" }
$version = & $py -c "from client.agent.host import CLIENT_VERSION; print(CLIENT_VERSION)"
& $py -m PyInstaller --noconfirm --log-level WARN --distpath dist\windows --workpath build\pyinstaller-windows installers\newral-client.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
& dist\windows\newral-client\newral-client.exe --newral-selftest
if ($LASTEXITCODE -ne 0) { throw "the frozen client failed its self-test" }
$iscc = if ($env:ISCC) { $env:ISCC } else { "iscc" }
& $iscc "/DAppVersion=$version" "/DSourceDir=..\..\dist\windows\newral-client" installers\windows\newral-client.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Write-Host "build-windows: dist\windows\newral-client-$version-windows-setup.exe"
