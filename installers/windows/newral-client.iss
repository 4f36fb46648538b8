; Inno Setup script for the Newral desktop client on Windows (written, NOT built or
; tested here: no Windows machine). Built by installers/build-windows.ps1 from the
; PyInstaller folder build in dist\windows\newral-client.
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\dist\windows\newral-client installers\windows\newral-client.iss
;
; Per-user install (no administrator rights), a Start-menu entry, and an optional
; start at login (HKCU Run key) chosen on the Tasks page.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\windows\newral-client"
#endif

[Setup]
AppId={{6C1E1F3A-8C1B-4C5E-9E0D-2B7F0A9D4E11}
AppName=Newral
AppVersion={#AppVersion}
AppPublisher=Newral
DefaultDirName={localappdata}\Programs\Newral
DefaultGroupName=Newral
PrivilegesRequired=lowest
DisableProgramGroupPage=yes
OutputDir=..\..\dist\windows
OutputBaseFilename=newral-client-{#AppVersion}-windows-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
RestartApplications=no

[Tasks]
Name: "startatlogin"; Description: "Start Newral when I log in"; GroupDescription: "Start-up:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Newral"; Filename: "{app}\newral-client.exe"
Name: "{group}\Uninstall Newral"; Filename: "{uninstallexe}"

[Registry]
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; \
    ValueName: "Newral"; ValueData: """{app}\newral-client.exe"""; Tasks: startatlogin; \
    Flags: uninsdeletevalue

[Run]
Filename: "{app}\newral-client.exe"; Description: "Start Newral now"; Flags: nowait postinstall skipifsilent
