# cutover's bridge to the Skype for Business Server management shell.
#
# Reads one JSON request per line on standard input and writes one JSON
# answer per line on standard output, until standard input ends. A request:
#   {"op": "get-user" | "move-online" | "move-to-pool", "identity": "...",
#    "target": "...", "pool": "...", "bypass_enterprise_voice_check": true,
#    "domain_controller": "...", "override_url": "...", "pool_fqdn": "...",
#    "credential": {"user": "...", "password": "..."}}
# Parameters are Move-CsUser's and Get-CsUser's as MicrosoftDocs/office-docs-powershell
# skype/skype-ps/SkypeForBusiness/Move-CsUser.md and Get-CsUser.md publish them.
# An answer: {"ok": true, "user": {...}} or
#            {"ok": false, "error": {"type": "...", "message": "..."}}
# Nothing else is written to standard output; warnings go to standard error.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'

function Write-Answer($answer) {
    [Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 6))
    [Console]::Out.Flush()
}

function Get-Credential-From($req) {
    if ($null -eq $req.credential) { return $null }
    $secure = ConvertTo-SecureString $req.credential.password -AsPlainText -Force
    return New-Object System.Management.Automation.PSCredential($req.credential.user, $secure)
}

$script:ready = $false
function Initialize-Shell($req) {
    if ($script:ready) { return }
    if ($req.pool_fqdn) {
        $options = @{ ConnectionUri = "https://$($req.pool_fqdn)/OcsPowershell" }
        $cred = Get-Credential-From $req
        if ($cred) { $options.Credential = $cred }
        $session = New-PSSession @options
        Import-PSSession $session -AllowClobber | Out-Null
    } else {
        Import-Module SkypeForBusiness
    }
    $script:ready = $true
}

while ($null -ne ($line = [Console]::In.ReadLine())) {
    if ($line.Trim() -eq '') { continue }
    try {
        $req = $line | ConvertFrom-Json
        Initialize-Shell $req
        $move = @{ Identity = $req.identity; Confirm = $false }
        $get = @{ Identity = $req.identity }
        if ($req.domain_controller) {
            $move.DomainController = $req.domain_controller
            $get.DomainController = $req.domain_controller
        }
        $cred = Get-Credential-From $req
        if ($cred) { $move.Credential = $cred }
        switch ($req.op) {
            'get-user' {
                $u = Get-CsUser @get
                Write-Answer @{ ok = $true; user = @{
                    identity                 = [string]$u.UserPrincipalName
                    sip_address              = [string]$u.SipAddress
                    registrar_pool           = [string]$u.RegistrarPool
                    hosting_provider         = [string]$u.HostingProvider
                    enterprise_voice_enabled = [bool]$u.EnterpriseVoiceEnabled
                    line_uri                 = [string]$u.LineURI
                    policies                 = @{
                        ConferencingPolicy   = [string]$u.ConferencingPolicy
                        ClientPolicy         = [string]$u.ClientPolicy
                        VoicePolicy          = [string]$u.VoicePolicy
                        ExternalAccessPolicy = [string]$u.ExternalAccessPolicy
                        DialPlan             = [string]$u.DialPlan
                    }
                } }
            }
            'move-online' {
                $move.Target = $req.target
                if ($req.override_url) { $move.HostedMigrationOverrideUrl = $req.override_url }
                if ($req.bypass_enterprise_voice_check) { $move.BypassEnterpriseVoiceCheck = $true }
                Move-CsUser @move
                Write-Answer @{ ok = $true }
            }
            'move-to-pool' {
                $move.Target = $req.pool
                if ($req.override_url) { $move.HostedMigrationOverrideUrl = $req.override_url }
                Move-CsUser @move
                Write-Answer @{ ok = $true }
            }
            default { throw "unknown operation '$($req.op)'" }
        }
    } catch {
        Write-Answer @{ ok = $false; error = @{ type = $_.Exception.GetType().FullName; message = $_.Exception.Message } }
    }
}
