-- A wave may move Enterprise Voice users without Teams Phone: Move-CsUser
-- -BypassEnterpriseVoiceCheck (MicrosoftDocs/office-docs-powershell
-- skype/skype-ps/SkypeForBusiness/Move-CsUser.md).
ALTER TABLE waves ADD COLUMN bypass_enterprise_voice_check boolean NOT NULL DEFAULT false;
