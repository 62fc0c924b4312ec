-- Card link generations (issue 11): a member's private card page link
-- carries its generation; raising it (HQ's revocation, a phone change, a
-- merge) makes every older link stop working.
create table card_link_generations (
	brand_id    text not null,
	member_id   text not null,
	generation  bigint not null,
	primary key (brand_id, member_id)
);
