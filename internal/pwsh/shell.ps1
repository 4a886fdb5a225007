# cutover's bridge to the Skype for Business Server management shell.
#
# Reads one JSON request per line on standard input and writes one JSON
# answer per line on standard output, until standard input ends. A request:
#   {"op": "get-user" | "move-online" | "move-to-pool" | "check-host" | "hybrid-config" | "voice-users" | "meeting-migration" |
#          "clear-line-uri" | "assign-number" | "start-meeting-migration",
#    "identity": "...", "phone_number": "...",
#    "target": "...", "pool": "...", "bypass_enterprise_voice_check": true,
#    "domain_controller": "...", "override_url": "...", "pool_fqdn": "...",
#    "credential": {"user": "...", "password": "..."}}
# Parameters are Move-CsUser's and Get-CsUser's as MicrosoftDocs/office-docs-powershell
# skype/skype-ps/SkypeForBusiness/Move-CsUser.md and Get-CsUser.md publish them.
# An answer: {"ok": true, "user": {...}}, {"ok": true, "host": {...}},
#            {"ok": true, "on_premises": {...}}, {"ok": true, "users": [...]},
#            {"ok": true, "meetings": {...} or null} or
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
$script:session = $null
function Initialize-Shell($req) {
    if ($script:ready) { return }
    if ($req.pool_fqdn) {
        $options = @{ ConnectionUri = "https://$($req.pool_fqdn)/OcsPowershell" }
        $cred = Get-Credential-From $req
        if ($cred) { $options.Credential = $cred }
        $session = New-PSSession @options
        Import-PSSession $session -AllowClobber | Out-Null
        $script:session = $session
    } else {
        Import-Module SkypeForBusiness
    }
    $script:ready = $true
}

# The worker host's facts, read-only: the PowerShell, the modules
# (MicrosoftTeams 6.2.1 or later: Move-CsUser.md), the server build
# (Get-CsServerVersion, Get-CsServerPatchVersion), strong cryptography for
# TLS 1.2 (the SchUseStrongCrypto value of
# Skype/SfbServer/manage/topology/disable-tls-1.0-1.1.md) and a sign-in to
# Teams (Connect-MicrosoftTeams, then Disconnect-MicrosoftTeams).
function Get-HostFacts($req) {
    $facts = @{
        ps_edition     = [string]$PSVersionTable.PSEdition
        ps_version     = [string]$PSVersionTable.PSVersion
        skype_module   = ''
        teams_module   = ''
        server_product = ''
        server_build   = ''
        tls12          = $false
        sign_in        = ''
        pool           = ''
        pool_checks    = ''
    }
    try { Initialize-Shell $req } catch { $facts.skype_module = $_.Exception.Message }
    $teams = Get-Module -ListAvailable -Name MicrosoftTeams | Sort-Object Version -Descending | Select-Object -First 1
    if ($teams) { $facts.teams_module = [string]$teams.Version }
    if ($facts.skype_module -eq '') {
        try {
            $facts.server_product = [string](Get-CsServerVersion)
            $builds = @(Get-CsServerPatchVersion | ForEach-Object { [Version]$_.Version } | Sort-Object -Descending)
            if ($builds.Count -gt 0) { $facts.server_build = [string]$builds[0] }
        } catch { $facts.server_product = 'unknown: ' + $_.Exception.Message }
    }
    # The value counts under PowerShell 7 too: the SkypeForBusiness module
    # runs in Windows PowerShell (.NET Framework) whichever shell loads it.
    $strong = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319' -Name SchUseStrongCrypto -ErrorAction SilentlyContinue
    $facts.tls12 = ($null -ne $strong -and $strong.SchUseStrongCrypto -eq 1)
    # With a remote session, Move-CsUser runs in the front-end pool's
    # session: its MicrosoftTeams module and TLS 1.2 are read there. A
    # session that refuses the script says why, and the host's own values
    # are not taken for the pool's.
    if ($req.pool_fqdn) {
        $facts.pool = [string]$req.pool_fqdn
        if ($null -eq $script:session) {
            $facts.pool_checks = 'no remote session to the pool'
        } else {
            try {
                $remote = Invoke-Command -Session $script:session -ScriptBlock {
                    $t = Get-Module -ListAvailable -Name MicrosoftTeams | Sort-Object Version -Descending | Select-Object -First 1
                    $s = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319' -Name SchUseStrongCrypto -ErrorAction SilentlyContinue
                    @{ teams = [string]$t.Version; tls12 = ($null -ne $s -and $s.SchUseStrongCrypto -eq 1) }
                }
                $facts.teams_module = [string]$remote.teams
                $facts.tls12 = [bool]$remote.tls12
            } catch { $facts.pool_checks = $_.Exception.Message }
        }
    }
    try {
        Import-Module MicrosoftTeams
        $connect = @{}
        $cred = Get-Credential-From $req
        if ($cred) { $connect.Credential = $cred }
        Connect-MicrosoftTeams @connect | Out-Null
        Disconnect-MicrosoftTeams | Out-Null
    } catch { $facts.sign_in = $_.Exception.Message }
    return $facts
}

# A session with Teams for the MicrosoftTeams module's cmdlets that read a
# moved user (Connect-MicrosoftTeams, with -Credential where the request
# gives one), opened once and kept.
$script:teams = $false
function Connect-Teams($req) {
    if ($script:teams) { return }
    Import-Module MicrosoftTeams
    $connect = @{}
    $cred = Get-Credential-From $req
    if ($cred) { $connect.Credential = $cred }
    Connect-MicrosoftTeams @connect | Out-Null
    $script:teams = $true
}

# A moved user's meeting migration, read-only: Get-CsMeetingMigrationStatus
# -Identity, with the output properties its page documents
# (MicrosoftDocs/office-docs-powershell
# teams/teams-ps/MicrosoftTeams/Get-CsMeetingMigrationStatus.md); $null when
# it shows none. The newest, if it shows several.
function Get-MeetingMigration($req) {
    Connect-Teams $req
    $m = @(Get-CsMeetingMigrationStatus -Identity $req.identity) | Sort-Object ModifiedDate -Descending | Select-Object -First 1
    if ($null -eq $m) { return $null }
    return @{
        State            = [string]$m.State
        TotalMeeting     = [int]$m.TotalMeeting
        SucceededMeeting = [int]$m.SucceededMeeting
        FailedMeeting    = [int]$m.FailedMeeting
        RetryCount       = [int]$m.RetryCount
        LastMessage      = [string]$m.LastMessage
        MigrationType    = [string]$m.MigrationType
        ModifiedDate     = ([datetime]$m.ModifiedDate).ToUniversalTime().ToString('o')
    }
}

while ($null -ne ($line = [Console]::In.ReadLine())) {
    if ($line.Trim() -eq '') { continue }
    try {
        $req = $line | ConvertFrom-Json
        if ($req.op -eq 'check-host') {
            Write-Answer @{ ok = $true; host = (Get-HostFacts $req) }
            continue
        }
        if ($req.op -eq 'meeting-migration') {
            Write-Answer @{ ok = $true; meetings = (Get-MeetingMigration $req) }
            continue
        }
        if ($req.op -eq 'start-meeting-migration') {
            # A lead's request that Microsoft migrate a moved user's meetings
            # to Teams again, as example 1 of MicrosoftDocs/office-docs-powershell
            # teams/teams-ps/MicrosoftTeams/Start-CsExMeetingMigration.md gives it.
            Connect-Teams $req
            Start-CsExMeetingMigration -Identity $req.identity -TargetMeetingType Teams
            Write-Answer @{ ok = $true }
            continue
        }
        if ($req.op -eq 'assign-number') {
            # A moved user's number assigned online, once it is no longer
            # synchronised from on premises: the command and parameters of
            # MicrosoftDocs/OfficeDocs-SkypeForBusiness
            # Teams/direct-routing-enable-users.md ("If you are managing the
            # user's phone number online, you need to assign the phone number
            # to the user using the following command in Teams PowerShell";
            # -PhoneNumber and -PhoneNumberType are aliases of -TelephoneNumber
            # and -NumberType: office-docs-powershell
            # teams/teams-ps/MicrosoftTeams/Set-CsPhoneNumberAssignment.md).
            Connect-Teams $req
            Set-CsPhoneNumberAssignment -Identity $req.identity -PhoneNumber $req.phone_number -PhoneNumberType DirectRouting
            Write-Answer @{ ok = $true }
            continue
        }
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
            'clear-line-uri' {
                # A moved user's number cleared on premises, so that it can
                # be managed online: Set-CsUser -LineUri $null, as
                # MicrosoftDocs/OfficeDocs-SkypeForBusiness
                # Teams/direct-routing-enable-users.md gives it (and not
                # EnterpriseVoiceEnabled $false, which the same page advises
                # against).
                $set = @{ Identity = $req.identity; LineURI = $null }
                if ($req.domain_controller) { $set.DomainController = $req.domain_controller }
                Set-CsUser @set
                Write-Answer @{ ok = $true }
            }
            'voice-users' {
                # Read-only: every user enabled for Enterprise Voice, with
                # the filter Get-CsUser.md gives for them.
                $users = @(Get-CsUser -Filter { EnterpriseVoiceEnabled -eq $True } | ForEach-Object {
                    @{
                        identity                 = [string]$_.UserPrincipalName
                        sip_address              = [string]$_.SipAddress
                        enterprise_voice_enabled = $true
                        line_uri                 = [string]$_.LineURI
                    }
                })
                Write-Answer @{ ok = $true; users = $users }
            }
            'hybrid-config' {
                # Read-only: the hosting providers (property names are
                # New-CsHostingProvider's parameters) and the Access Edge
                # configuration (Get-CsAccessEdgeConfiguration's sample output).
                $providers = @(Get-CsHostingProvider | ForEach-Object {
                    @{
                        Identity                  = [string]$_.Identity
                        ProxyFqdn                 = [string]$_.ProxyFqdn
                        Enabled                   = [bool]$_.Enabled
                        EnabledSharedAddressSpace = [bool]$_.EnabledSharedAddressSpace
                        HostsOCSUsers             = [bool]$_.HostsOCSUsers
                        IsLocal                   = [bool]$_.IsLocal
                        VerificationLevel         = [string]$_.VerificationLevel
                        AutodiscoverUrl           = [string]$_.AutodiscoverUrl
                    }
                })
                $edge = Get-CsAccessEdgeConfiguration
                Write-Answer @{ ok = $true; on_premises = @{
                    hosting_providers = $providers
                    access_edge       = @{
                        AllowFederatedUsers    = [bool]$edge.AllowFederatedUsers
                        AllowOutsideUsers      = [bool]$edge.AllowOutsideUsers
                        EnablePartnerDiscovery = [bool]$edge.EnablePartnerDiscovery
                        RoutingMethod          = [string]$edge.RoutingMethod
                    }
                } }
            }
            default { throw "unknown operation '$($req.op)'" }
        }
    } catch {
        Write-Answer @{ ok = $false; error = @{ type = $_.Exception.GetType().FullName; message = $_.Exception.Message } }
    }
}
