namespace Fisher.EndToEnd.Tests;
