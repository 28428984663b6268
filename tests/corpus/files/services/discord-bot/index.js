const { Client, GatewayIntentBits } = require('discord.js');

const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages] });

client.once('ready', () => console.log(`Logged in as ${client.user.tag}`));
client.on('messageCreate', (msg) => {
  if (msg.content === '!status') msg.reply('All systems normal');
});

client.login('MTMzMzkyOTkzODg4NTcyMjY0Nw.ZD4KHo.zyIgIs9RRbF-6r8xmeGg3USJ_hQj2bZqRs1q3o');
