console.log('demo placeholder')
