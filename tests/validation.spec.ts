import {
  negativeTests,
  nullsRefusedOrTaken,
  nullsTakenAsLeftOut,
  optionalNulls,
  rejectedWith,
  tagOf as t,
  test,
  urlTried,
} from '../fixtures/suite';

// null in every optional field, in one create: refused, or the group the same server makes with them left out
// (the run's minimal group), whatever its defaults.
const nulls = optionalNulls();
test(
  `a create with ${nulls.title} is refused with 400, or makes the group leaving them out makes`,
  {
    tag: [t('optional-null'), t('rejected-no-side-effect')],
  },
  async ({ api, data, env, madeGroup, noTrace }, info) => {
    info.skip(
      env.privateOnly,
      `in ${env.name}: ${env.name} groups are always sent with public: false, and this case sends public: null and ` +
        `compares with a group made with the optional fields left out, which ${env.name} does not make`,
    );
    const body = nulls.body(data);
    const answer = await api.create(body);
    const room = nullsRefusedOrTaken(answer);
    if (!room) return noTrace(String(body.url), answer);
    const [leftOut, ...reads] = await Promise.all([
      madeGroup('minimal'),
      api.getById(room.id),
      api.getByUrl(String(body.url)),
    ]);
    nullsTakenAsLeftOut({
      fields: nulls.fields,
      room,
      reads,
      leftOut: leftOut.room,
      ex: answer,
      leftOutEx: leftOut.exchange,
    });
  },
);

// Every class of invalid value of every field, and bodies that are not objects, generated from the
// request schema: a step each, in flight together; each refusal is followed by the proof that nothing
// was stored under its url.
for (const g of negativeTests()) {
  const tag = [...(g.smoke ? ['@smoke'] : []), ...g.clauses.map(t), t('rejected-no-side-effect')];
  test(`a create with ${g.title} is refused with 400 and stores nothing`, { tag }, async ({ api, data, noTrace }) => {
    await api.everyCase(g.cases, async (c) => {
      const body = c.body(data);
      const answer = await api.create(body, { raw: c.raw });
      rejectedWith(c.clause, 400, answer);
      const url = urlTried(body);
      if (url) await noTrace(url, answer);
      else
        test.info().annotations.push({
          type: 'no-trace-check',
          description: `${c.title}: the body carries no url string to look up, so that nothing was stored could not be shown`,
        });
    });
  });
}
