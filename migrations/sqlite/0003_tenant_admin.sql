CREATE TABLE `tenant_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`email` text NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`invited_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant_accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tenant_invitations_token_hash_unique` ON `tenant_invitations` (`token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `tenant_invitations_tenant_email_idx` ON `tenant_invitations` (`tenant_id`,`email`);--> statement-breakpoint
CREATE INDEX `tenant_invitations_email_idx` ON `tenant_invitations` (`email`);--> statement-breakpoint
ALTER TABLE `security_events` ADD `actor_user_id` text;--> statement-breakpoint
ALTER TABLE `tenant_accounts` ADD `require_mfa` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `tenant_accounts` ADD `deleted_at` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `deleted_at` integer;