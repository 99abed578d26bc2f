/**
 * Well-known passwords that pass the length rule (8+ code points) but must still be refused
 * (NIST SP 800-63B §5.1.1.2: compare against "passwords obtained from previous breach corpuses"
 * and "dictionary words"). Written from memory of public top lists (RockYou, SecLists' "10k most
 * common", the NCSC's top 100,000 from Pwned Passwords, yearly "worst passwords" lists), plus the
 * usual Season+Year and Name+digits patterns: not an exact copy of any of them. Lowercase;
 * callers lowercase their input.
 *
 * This catches only the most obvious choices; a k-anonymity lookup against a breach corpus
 * (e.g. the Pwned Passwords range API) would catch far more, at the price of a network call.
 */
const LIST = `
password 12345678 123456789 1234567890 12345678910 qwertyuiop iloveyou sunshine princess football
baseball welcome1 abc12345 abcd1234 1234abcd password1 password12 password123 password1234 password01
password2 password3 passw0rd p@ssw0rd p@ssword pa55word pa$$word password! password1! passwort
motdepasse contraseña 11111111 111111111 1111111111 00000000 000000000 0000000000 22222222 33333333
44444444 55555555 66666666 77777777 88888888 99999999 12341234 12344321 11223344 12121212
123123123 1231231234 987654321 0987654321 87654321 123456789a 12345678a a12345678 a123456789 aa123456
aa12345678 abc123456 abc123abc qwerty123 qwerty1234 qwerty12 qwerty123456 qwertyui qwertyuio qwerty!@#
1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4 q1w2e3r4t5 1qaz2wsx 1qaz2wsx3edc zaq12wsx zaq1zaq1 zaq1xsw2
1qazxsw2 !qaz2wsx qazwsxedc qazwsx123 123qweasd qweasdzxc 123qweasdzxc 1234qwer qwer1234 asdf1234
asdfasdf asdfghjk asdfghjkl zxcvbnm1 zxcvbnm123 zxcvbnmm poiuytrewq lkjhgfdsa mnbvcxz1 1qa2ws3ed
a1b2c3d4 a1s2d3f4 1a2b3c4d abcdefgh abcdefg1 abcdefg123 12qwaszx 147258369 741852963 963852741
123654789 147852369 789456123 456789123 159357456 159753456 1234512345 123456123456 1122334455 1234554321
5201314520 woaini1314 woaini520 iloveyou1 iloveyou2 iloveyou! iloveu123 loveyou1 lovelove loveme123
babygirl babygirl1 sweetheart sweetie1 chocolate butterfly elizabeth samantha jessica1 danielle
victoria jonathan nicholas alexander christopher christian benjamin michelle jennifer stephanie
christine patricia caroline isabella gabriela fernando leonardo francisco alejandro charlotte
princess1 sunshine1 football1 baseball1 basketball superman superman1 spiderman batman123 starwars
starwars1 pokemon1 pokemon123 michael1 charlie1 jordan23 liverpool liverpool1 chelsea1 arsenal1
manchester barcelona juventus tinkerbell cheyenne cocacola blink182 myspace1 slipknot metallica
computer computer1 internet whatever whatever1 trustno1 corvette mercedes maverick mustang1 porsche911
midnight platinum sapphire dolphins elephant fireball firebird gangster goodluck greenday hardcore
hercules lionking marlboro mountain november december september pakistan paradise passport phoenix1
playstation scorpion shamrock snowball snoopy12 someone1 stargate steelers strawberry sunflower
thunder1 tigger12 twilight undertaker warcraft wildcats williams wolverine xxxxxxxx zzzzzzzz aaaaaaaa
asdasdasd qweqweqwe zxczxczxc 123abc123 hello123 hellokitty helloworld monkey123 dragon123 master123
freedom1 letmein1 letmein123 letmein! welcome123 welcome12 admin123 admin1234 administrator changeme
changeme1 changeme123 default1 secret123 security security1 qwerty12345 iloveyou12 football12 baseball12
princesa angelina angel123 jesus123 jesuschrist blessed1 godisgood loveyou123 mylove123 family123
summer2019 summer2020 summer2021 summer2022 summer2023 summer2024 winter2020 winter2021 winter2022
winter2023 spring2021 spring2022 spring2023 autumn2021 fall2022 january1 february march2023 october1
pass1234 pass12345 password11 password99 passw0rd1 p@ssw0rd1 p@ssword1 p@$$w0rd test1234 test12345
testtest testing1 testing123 temp1234 guest123 user1234 login123 root1234 toor1234 superuser
football10 soccer123 hockey123 basketball1 yankees1 cowboys1 redskins packers1 eagles12 lakers24
michael23 jordan123 kobe2424 ronaldo7 cristiano messi123 neymar10 zidane10 ferrari1 mercedes1
bmw12345 hondacivic harleydavidson 1234567a 1234567q q1234567 q12345678 qq123456 qq123456789
zx123456 z1x2c3v4 1z2x3c4v azertyuiop azerty123 azerty12 qwertzuiop 123456qwerty 123456abc 123456asd
asd123456 qwe123456 zxc123456 abc123abc123 aaaaaaaaaa 1234asdf asdf123456 samsung1 samsung123
iphone123 apple123 google123 facebook instagram linkedin twitter1 microsoft windows7 windows10
blackberry nintendo minecraft fortnite roblox123 pokemongo gamer123 anonymous matrix123 hacker123
qwerty007 james007 bond007! agent007 rockyou1 rockstar rockstar1 superstar princess12 sunshine12
chicken1 chicken123 cookie123 pepper123 banana123 orange123 cherry123 peanut123 butter123 cheese123
pizza123 hotdog123 coffee123 sparkle1 diamond1 diamonds crystal1 rainbow1 rainbow123 unicorn1 unicorns
purple123 yellow123 silver123 golden123 red12345 blue1234 green123 black123 white123 fuckyou1
passw0rd! welcome1! qwerty123! summer2024! spring2024! autumn2024! winter2024! admin@123 admin123!
`;

/** The refused passwords, lowercase, each 8 or more code points long. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(LIST.split(/\s+/).filter(Boolean));
