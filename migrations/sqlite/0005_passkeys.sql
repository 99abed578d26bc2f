CREATE TABLE `webauthn_challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`purpose` text NOT NULL,
	`user_id` text,
	`binding` text,
	`challenge_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`consumed_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webauthn_challenges_challenge_hash_unique` ON `webauthn_challenges` (`challenge_hash`);--> statement-breakpoint
CREATE INDEX `webauthn_challenges_expiry_idx` ON `webauthn_challenges` (`expires_at`);--> statement-breakpoint
CREATE TABLE `webauthn_credentials` (
	`factor_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`credential_id` text NOT NULL,
	`public_key` text NOT NULL,
	`sign_count` integer DEFAULT 0 NOT NULL,
	`transports` text,
	`backup_eligible` integer NOT NULL,
	`backup_state` integer NOT NULL,
	`aaguid` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`factor_id`) REFERENCES `user_mfa_methods`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webauthn_credentials_credential_id_unique` ON `webauthn_credentials` (`credential_id`);--> statement-breakpoint
CREATE INDEX `webauthn_credentials_user_idx` ON `webauthn_credentials` (`user_id`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_user_mfa_methods` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`label` text,
	`secret_key_id` text,
	`secret_ciphertext` text,
	`last_used_step` integer,
	`created_at` integer NOT NULL,
	`verified_at` integer,
	`last_used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_user_mfa_methods`("id", "user_id", "type", "status", "label", "secret_key_id", "secret_ciphertext", "last_used_step", "created_at", "verified_at", "last_used_at") SELECT "id", "user_id", "type", "status", "label", "secret_key_id", "secret_ciphertext", "last_used_step", "created_at", "verified_at", "last_used_at" FROM `user_mfa_methods`;--> statement-breakpoint
DROP TABLE `user_mfa_methods`;--> statement-breakpoint
ALTER TABLE `__new_user_mfa_methods` RENAME TO `user_mfa_methods`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `user_mfa_methods_user_idx` ON `user_mfa_methods` (`user_id`);